/**
 * Deleting messages (`DELETE /rooms/:room/messages/:id`) against real servers: who may (the author, by identity or
 * by the client key an anonymous post was sent with, and admins), the `delete` event on every stream of the room in
 * each format and on every instance, the page removing the message, and history and resumes leaving it out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { BUN, openStream, ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

const key = () => randomBytes(16).toString('hex');
const postAs = async (base: string, room: string, text: string, headers: Record<string, string>) => {
  const res = await fetch(`${base}/rooms/${room}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers }, body: JSON.stringify({ name: 'ann', text }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; text: string };
};
const remove = (base: string, room: string, id: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${room}/messages/${id}`, { method: 'DELETE', headers });
const history = async (base: string, room: string, headers: Record<string, string> = {}) =>
  ((await (await fetch(`${base}/rooms/${room}/messages`, { headers })).json()) as { messages: { id: string; text: string }[] }).messages.map((m) => m.text);

describe('deleting in open mode', () => {
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

  it('lets only the client key that posted it delete it, tells every stream, and history and resumes leave it out', async () => {
    const ann = key();
    const json = await openStream(`${server.url}/rooms/mod/events?history=0`);
    const text = await openStream(`${server.url}/rooms/mod/events?history=0&format=text`);
    const first = await postAs(server.url, 'mod', 'keep me', { 'X-Client-Id': ann });
    const doomed = await postAs(server.url, 'mod', 'delete me', { 'X-Client-Id': ann });
    const after = await postAs(server.url, 'mod', 'after it', { 'X-Client-Id': key() });
    await json.next((e) => e.id === after.id, 'the last post');

    expect((await remove(server.url, 'mod', doomed.id)).status).toBe(403);
    expect((await remove(server.url, 'mod', doomed.id, { 'X-Client-Id': key() })).status).toBe(403);
    const refused = await remove(server.url, 'mod', doomed.id, { 'X-Client-Id': 'mallory' });
    expect((await refused.json()).error).toContain('X-Client-Id');
    expect((await remove(server.url, 'mod', doomed.id, { 'X-Client-Id': ann })).status).toBe(204);
    expect((await remove(server.url, 'mod', doomed.id, { 'X-Client-Id': ann })).status).toBe(404);
    expect((await remove(server.url, 'mod', '123', { 'X-Client-Id': ann })).status).toBe(404);
    expect((await remove(server.url, 'mod', 'not-an-id', { 'X-Client-Id': ann })).status).toBe(400);

    const told = await json.next((e) => e.event === 'delete', 'the delete event');
    expect(JSON.parse(told.data)).toEqual({ room: 'mod', id: doomed.id });
    expect((await text.next((e) => e.event === 'delete', 'the delete line')).data).toBe(`* a message was deleted (${doomed.id})`);
    expect(await history(server.url, 'mod')).toEqual(['keep me', 'after it']);
    // A client whose last id is the deleted message resumes as ever: no reset, the rest follows.
    const resumed = await openStream(`${server.url}/rooms/mod/events`, { 'Last-Event-ID': doomed.id });
    await resumed.next((e) => e.id === after.id, 'the message after the deleted one');
    expect(resumed.events.filter((e) => e.event === 'reset')).toEqual([]);
    expect(resumed.messages().map((m) => m.text)).toEqual(['after it']);
    for (const s of [json, text, resumed]) s.close();
    expect(first.id).toBeTruthy();
  });

  it('removes the message from a page that shows it', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'reader', problems);
    await enterRoom(page, `${server.url}/rooms/mod-page`, 'reader');
    const poster = key();
    const doomed = await postAs(server.url, 'mod-page', 'soon gone', { 'X-Client-Id': poster });
    await page.locator(`#m-${doomed.id}`).waitFor();
    expect((await remove(server.url, 'mod-page', doomed.id, { 'X-Client-Id': poster })).status).toBe(204);
    await page.locator(`#m-${doomed.id}`).waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
  });
});

describe('deleting with accounts', () => {
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

  it("lets the author and an admin delete, and nobody else, whatever client key they send", async () => {
    const alices = await postAs(server.url, 'team', 'by alice', { ...basic('alice'), 'X-Client-Id': 'shared-key-0000000000' });
    const bobs = await postAs(server.url, 'team', 'by bob', basic('bob'));
    const refused = await remove(server.url, 'team', alices.id, { ...basic('bob'), 'X-Client-Id': 'shared-key-0000000000' });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toBe('only its author, or an admin, may delete this message');
    expect((await remove(server.url, 'team', alices.id)).status).toBe(401); // not signed in
    expect((await remove(server.url, 'team', alices.id, basic('alice'))).status).toBe(204);
    expect((await remove(server.url, 'team', bobs.id, basic('root'))).status).toBe(204);
    expect(await history(server.url, 'team', basic('alice'))).toEqual([]);
    // The author is kept for this, and never shown.
    const shown = await postAs(server.url, 'team', 'who wrote me', basic('alice'));
    expect(JSON.stringify(shown)).not.toContain('user:alice');
    expect(JSON.stringify(await (await fetch(`${server.url}/rooms/team/messages`, { headers: basic('alice') })).json())).not.toContain('user:');
  });
});

describe('deleting on one of two instances on Redis', () => {
  const prefix = uniquePrefix('moderation');
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

  it("tells the other instance's streams, and its history leaves the message out", async () => {
    const onB = await openStream(`${b.url}/rooms/shared/events?history=0`);
    const poster = key();
    const doomed = await postAs(a.url, 'shared', 'across instances', { 'X-Client-Id': poster });
    await onB.next((e) => e.id === doomed.id, 'the post on the other instance');
    expect((await remove(a.url, 'shared', doomed.id, { 'X-Client-Id': poster })).status).toBe(204);
    const told = await onB.next((e) => e.event === 'delete', 'the delete event on the other instance');
    expect(JSON.parse(told.data)).toEqual({ room: 'shared', id: doomed.id });
    expect(await history(b.url, 'shared')).toEqual([]);
    onB.close();
  });
});
