/**
 * Editing messages (`PATCH /rooms/:room/messages/:id`) against real servers: who may (in open mode the client key
 * the message was posted with; with accounts its author, and not an admin), the `edit` event on every stream of the
 * room in each format and on every instance, history with the new text and `edited`, and the page showing the new
 * text with "(edited)", live and when it loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { BUN, openStream, ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

interface Shown { id: string; room: string; name: string; text: string; ts: number; edited?: number }
const key = () => randomBytes(16).toString('hex');
const postAs = async (base: string, room: string, text: string, headers: Record<string, string>) => {
  const res = await fetch(`${base}/rooms/${room}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers }, body: JSON.stringify({ name: 'ann', text }) });
  expect(res.status).toBe(201);
  return (await res.json()) as Shown;
};
const edit = (base: string, room: string, id: string, text: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${room}/messages/${id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ text }) });
const history = async (base: string, room: string, headers: Record<string, string> = {}) =>
  ((await (await fetch(`${base}/rooms/${room}/messages`, { headers })).json()) as { messages: Shown[] }).messages;

describe('editing in open mode', () => {
  let server: ServerProcess;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server.stop();
  });

  it('lets only the client key that posted it edit it, tells every stream in every format, and history has the new text', async () => {
    const ann = key();
    const json = await openStream(`${server.url}/rooms/ed/events?history=0`);
    const text = await openStream(`${server.url}/rooms/ed/events?history=0&format=text`);
    const ndjson = await fetch(`${server.url}/rooms/ed/events?history=0&format=ndjson`);
    const lines = ndjson.body!.pipeThrough(new TextDecoderStream()).getReader();
    const typo = await postAs(server.url, 'ed', 'helo wrold', { 'X-Client-Id': ann });
    const other = await postAs(server.url, 'ed', 'not edited', { 'X-Client-Id': key() });
    await json.next((e) => e.id === other.id, 'the last post');

    expect((await edit(server.url, 'ed', typo.id, 'no key')).status).toBe(403);
    const refused = await edit(server.url, 'ed', typo.id, 'wrong key', { 'X-Client-Id': key() });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toContain('X-Client-Id');
    expect((await edit(server.url, 'ed', '123', 'none', { 'X-Client-Id': ann })).status).toBe(404);
    expect((await edit(server.url, 'ed', 'not-an-id', 'bad', { 'X-Client-Id': ann })).status).toBe(400);
    expect((await edit(server.url, 'ed', typo.id, ' \n ', { 'X-Client-Id': ann })).status).toBe(422);
    expect((await edit(server.url, 'ed', typo.id, 'x'.repeat(4001), { 'X-Client-Id': ann })).status).toBe(422);

    const long = `hello world, and a long tail: ${'abcdefghij'.repeat(8)}`;
    const res = await edit(server.url, 'ed', typo.id, long, { 'X-Client-Id': ann });
    expect(res.status).toBe(200);
    const edited = (await res.json()) as Shown & Record<string, unknown>;
    expect(edited).toMatchObject({ id: typo.id, room: 'ed', name: 'ann', text: long, ts: typo.ts });
    expect(edited.edited).toBeGreaterThanOrEqual(typo.ts);
    expect(Object.keys(edited).sort()).toEqual(['edited', 'id', 'name', 'room', 'text', 'ts']); // no client, no author

    const told = await json.next((e) => e.event === 'edit', 'the edit event');
    expect(JSON.parse(told.data)).toEqual({ room: 'ed', id: typo.id, text: long, edited: edited.edited });
    const line = await text.next((e) => e.event === 'edit', 'the edit line');
    expect(line.data).toBe(`* ann edited a message (${typo.id}): ${long.slice(0, 60)}…`);
    let got = '';
    while (!got.includes('"event":"edit"')) got += (await lines.read()).value ?? '';
    const ndLine = got.split('\n').find((l) => l.includes('"event":"edit"'))!;
    expect(JSON.parse(ndLine)).toEqual({ event: 'edit', room: 'ed', id: typo.id, text: long, edited: edited.edited });

    // A bare text body works as for a post (curl -X PATCH -d 'text').
    const plain = await fetch(`${server.url}/rooms/ed/messages/${typo.id}`, { method: 'PATCH', headers: { 'Content-Type': 'text/plain', 'X-Client-Id': ann }, body: 'hello world' });
    expect(plain.status).toBe(200);
    await json.next((e) => e.event === 'edit' && JSON.parse(e.data).text === 'hello world', 'the second edit');

    const kept = await history(server.url, 'ed');
    expect(kept.map((m) => [m.text, m.edited !== undefined])).toEqual([['hello world', true], ['not edited', false]]);
    expect(kept[0]!.edited).toBeGreaterThanOrEqual(edited.edited!);
    const resumed = await (await fetch(`${server.url}/rooms/ed/messages?after=0`)).json() as { messages: Shown[] };
    expect(resumed.messages[0]!.text).toBe('hello world');
    for (const s of [json, text]) s.close();
    await lines.cancel();
  });

  it('shows the new text with "(edited)" on a page that shows it, as text, and when the page loads', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'reader', problems);
    await enterRoom(page, `${server.url}/rooms/ed-page`, 'reader');
    const poster = key();
    const typo = await postAs(server.url, 'ed-page', 'teh text', { 'X-Client-Id': poster });
    const item = page.locator(`#m-${typo.id}`);
    await item.waitFor();
    expect(await item.locator('.edited').count()).toBe(0);
    const markup = 'the text <b>not bold</b> <img src=x onerror=alert(1)>';
    expect((await edit(server.url, 'ed-page', typo.id, markup, { 'X-Client-Id': poster })).status).toBe(200);
    await item.locator('.edited').waitFor();
    expect(await item.locator('.edited').textContent()).toBe('(edited)');
    expect(await item.locator('.text').textContent()).toBe(markup);
    expect(await item.locator('.text b, .text img').count()).toBe(0); // what people typed stays text
    // A second edit does not add a second mark.
    expect((await edit(server.url, 'ed-page', typo.id, 'the text, see https://example.com/x', { 'X-Client-Id': poster })).status).toBe(200);
    await page.waitForFunction((id) => document.querySelector(`#m-${id} .text`)?.textContent === 'the text, see https://example.com/x', typo.id);
    expect(await item.locator('.edited').count()).toBe(1);
    expect(await item.locator('.text a').getAttribute('href')).toBe('https://example.com/x'); // links made again

    // History as the page renders it: the edited text, marked.
    await page.reload();
    await item.locator('.edited').waitFor();
    expect(await item.locator('.text').textContent()).toBe('the text, see https://example.com/x');
    expect(problems).toEqual([]);
  });
});

describe('editing with accounts', () => {
  const data = tempDir();
  let server: ServerProcess;
  const basic = (name: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${name} has a long password`).toString('base64')}` });
  beforeAll(async () => {
    for (const [name, admin] of [['alice', false], ['bob', false], ['root', true]] as const) {
      const add = Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), 'add', name, ...(admin ? ['--admin'] : []), '--password-stdin', '--data', data.path], { stdin: new Blob([`${name} has a long password`]) });
      expect(add.exitCode).toBe(0);
    }
    server = await startServer(['--data', data.path, '--auth', 'accounts']);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('lets the author edit, and nobody else: not another account, not an admin, whatever client key they send', async () => {
    const alices = await postAs(server.url, 'team', 'by alice', { ...basic('alice'), 'X-Client-Id': 'shared-key-0000000000' });
    const refused = await edit(server.url, 'team', alices.id, 'by bob', { ...basic('bob'), 'X-Client-Id': 'shared-key-0000000000' });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toBe('only its author may edit this message');
    expect((await edit(server.url, 'team', alices.id, 'by root', basic('root'))).status).toBe(403);
    expect((await edit(server.url, 'team', alices.id, 'by nobody')).status).toBe(401); // not signed in
    const res = await edit(server.url, 'team', alices.id, 'by alice, edited', basic('alice'));
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).not.toContain('user:');
    expect(JSON.parse(body)).toMatchObject({ text: 'by alice, edited', name: 'alice', verified: true });
    const kept = await history(server.url, 'team', basic('bob'));
    expect(kept.map((m) => m.text)).toEqual(['by alice, edited']);
    expect(kept[0]!.edited).toBeNumber();
  });
});

describe('editing on one of two instances on Redis', () => {
  const prefix = uniquePrefix('edits');
  const url = storeUrl(SHARED_REDIS, DB.e2e, prefix);
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(['--store', url]), startServer(['--store', url])]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
  });

  it("tells the other instance's streams, and its history has the edit", async () => {
    const onB = await openStream(`${b.url}/rooms/shared/events?history=0`);
    const poster = key();
    const typo = await postAs(a.url, 'shared', 'acros instances', { 'X-Client-Id': poster });
    await onB.next((e) => e.id === typo.id, 'the post on the other instance');
    const res = await edit(a.url, 'shared', typo.id, 'across instances', { 'X-Client-Id': poster });
    expect(res.status).toBe(200);
    const edited = (await res.json()) as Shown;
    const told = await onB.next((e) => e.event === 'edit', 'the edit event on the other instance');
    expect(JSON.parse(told.data)).toEqual({ room: 'shared', id: typo.id, text: 'across instances', edited: edited.edited });
    const kept = await history(b.url, 'shared');
    expect(kept.map((m) => [m.id, m.text, m.edited])).toEqual([[typo.id, 'across instances', edited.edited]]);
    onB.close();
  });
});
