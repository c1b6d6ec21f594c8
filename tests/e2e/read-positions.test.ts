/**
 * Read positions per account (routes/read-positions.ts): a signed-in person's place in each room is kept by the
 * server, so the room switcher's unread counts follow them to another browser. Over HTTP against a real server in
 * accounts mode (and the refusals in token and open mode), then in real Chromium: read in one browser, counted in a
 * second one that shares nothing with the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { join } from 'node:path';
import { BUN, post, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoomSignedIn, launchBrowser, openPage } from './browser-helpers.ts';

const basic = (name: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${name} has a long password`).toString('base64')}` });
const alice = basic('alice');
const bob = basic('bob');
const JSON_BODY = { 'Content-Type': 'application/json' };
const REFUSED = 'read positions are kept for signed-in accounts only; this browser keeps its own';

const putRead = (base: string, room: string, id: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${encodeURIComponent(room)}/read`, { method: 'PUT', headers: { ...JSON_BODY, ...headers }, body: JSON.stringify({ id }) });
type Listed = { name: string; lastId: string; read?: string };
const listed = async (base: string, headers: Record<string, string>) =>
  ((await (await fetch(`${base}/rooms`, { headers: { Accept: 'application/json', ...headers } })).json()) as { rooms: Listed[] }).rooms;

describe('read positions per account', () => {
  const data = tempDir();
  let server: ServerProcess;
  let browser: Browser | undefined;
  beforeAll(async () => {
    const run = (args: string[], stdin = '') => Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), ...args, '--data', data.path], { stdin: new Blob([stdin]) });
    for (const name of ['alice', 'bob']) expect(run(['add', name, '--password-stdin'], `${name} has a long password`).exitCode).toBe(0);
    expect(run(['access', 'alice', 'secret', 'deny']).exitCode).toBe(0);
    // The anonymous may read, so that their PUT reaches the route (and is refused there, not at the room's door).
    server = await startServer(['--data', data.path, '--auth', 'accounts', '--default-access', 'read-only']);
  });
  afterAll(async () => {
    await browser?.close();
    await server.stop();
    data.remove();
  });

  it('keeps the later position per account, lists it in GET /rooms, and refuses the others', async () => {
    const sent: { id: string }[] = [];
    for (let i = 1; i <= 3; i++) sent.push(await post(server.url, 'dev', { text: `dev ${i}` }, alice));
    const [first, second, third] = sent.map((m) => m.id) as [string, string, string];
    expect((await putRead(server.url, 'dev', second, alice)).status).toBe(204);
    expect((await putRead(server.url, 'dev', first, alice)).status).toBe(204); // a stale browser: kept at the second
    const dev = (rooms: Listed[]) => rooms.find((r) => r.name === 'dev')!;
    expect(dev(await listed(server.url, alice))).toMatchObject({ lastId: third, read: second });
    expect('read' in dev(await listed(server.url, bob))).toBe(false);
    expect(await (await fetch(`${server.url}/read`, { headers: alice })).json()).toEqual({ read: { dev: second } });
    expect(await (await fetch(`${server.url}/read`, { headers: bob })).json()).toEqual({ read: {} });
    expect((await putRead(server.url, 'dev', third, alice)).status).toBe(204);
    expect(dev(await listed(server.url, alice)).read).toBe(third);
    // Not signed in: refused with the reason, and nothing to read.
    const anonymous = await putRead(server.url, 'dev', third);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toEqual({ error: REFUSED });
    expect(await (await fetch(`${server.url}/read`)).json()).toEqual({ read: {} });
    // A room alice may not read: refused at its door.
    const secret = await putRead(server.url, 'secret', third, alice);
    expect(secret.status).toBe(403);
    expect((await secret.json()).error).toContain('#secret');
    // Bad input: 400 with a reason.
    for (const id of ['abc', '', '12-', 42, null]) {
      const bad = await putRead(server.url, 'dev', id, alice);
      expect(bad.status).toBe(400);
      expect(typeof (await bad.json()).error).toBe('string');
    }
    const noId = await fetch(`${server.url}/rooms/dev/read`, { method: 'PUT', headers: { ...JSON_BODY, ...alice }, body: '{}' });
    expect(noId.status).toBe(400);
    expect((await putRead(server.url, 'no room!', third, alice)).status).toBe(400);
    expect(dev(await listed(server.url, alice)).read).toBe(third);
  });

  it("counts what is new since the account's place, in a second browser that never read the room", async () => {
    browser = await launchBrowser();
    const problems: string[] = [];
    const signIn = async (page: Page) => {
      await page.goto(`${server.url}/login`);
      await page.locator('input[name=user]').fill('alice');
      await page.locator('input[name=password]').fill('alice has a long password');
      await page.locator('input[name=password]').press('Enter');
      await page.waitForURL((url) => url.pathname !== '/login');
    };
    // The suite's HTTPS pass serves its own certificate, which this browser does not know.
    const first = await openPage(browser, 'alice (first browser)', problems, { ignoreHTTPSErrors: true });
    await signIn(first);
    const room = 'news';
    const read: { id: string }[] = [];
    for (let i = 1; i <= 3; i++) read.push(await post(server.url, room, { text: `news ${i}` }, bob));
    await enterRoomSignedIn(first, `${server.url}/rooms/${room}`, 'alice');
    await first.locator('#messages .msg', { hasText: 'news 3' }).waitFor();
    const place = async () => ((await (await fetch(`${server.url}/read`, { headers: alice })).json()) as { read: Record<string, string> }).read[room];
    await waitFor(async () => (await place()) === read[2]!.id, "the first browser's read position on the server");
    await first.context().close();

    for (let i = 1; i <= 2; i++) await post(server.url, room, { text: `later ${i}` }, bob);
    const second = await openPage(browser, 'alice (second browser)', problems, { ignoreHTTPSErrors: true });
    await signIn(second);
    await enterRoomSignedIn(second, `${server.url}/rooms/elsewhere`, 'alice');
    expect(await second.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('threadchat.read.news')))).toEqual([]);
    await second.locator('#room-input').focus();
    const labels = async () => second.locator('#recent-rooms option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).label));
    await waitFor(async () => (await labels()).some((l) => l.startsWith(`#${room}`)) || null, 'the room list in the switcher');
    expect((await labels()).find((l) => l.startsWith(`#${room}`))).toBe(`#${room} · 2 new`);
    expect(problems).toEqual([]);
    await second.context().close();
  });
});

describe('read positions without an identity of their own', () => {
  it('refuses the shared token (403), and a server without sign-ins has none (404)', async () => {
    const token = await startServer(['--store', 'memory', '--token', 'a shared token of some length']);
    const open = await startServer(['--store', 'memory']);
    try {
      const { id } = await post(token.url, 'dev', { name: 'ann', text: 'hi' }, { Authorization: 'Bearer a shared token of some length' });
      const shared = await putRead(token.url, 'dev', id, { Authorization: 'Bearer a shared token of some length' });
      expect(shared.status).toBe(403);
      expect(await shared.json()).toEqual({ error: REFUSED });
      expect(await (await fetch(`${token.url}/read`, { headers: { Authorization: 'Bearer a shared token of some length' } })).json()).toEqual({ read: {} });
      const none = await putRead(open.url, 'dev', id);
      expect(none.status).toBe(404);
      expect(typeof (await none.json()).error).toBe('string');
      expect(await (await fetch(`${open.url}/read`)).json()).toEqual({ read: {} });
    } finally {
      await token.stop();
      await open.stop();
    }
  });
});
