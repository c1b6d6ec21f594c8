/**
 * Direct messages against real servers: a room only two signed-in people can read (lib/direct.ts), reached with
 * `GET /dm/@NAME` or from a person's name on the page. Everyone else is refused, whatever their rules say: another
 * account, an admin, the anonymous, a JWT for someone else; an operator's `dm-*` rule still applies to its person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { BUN, openStream, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import { launchBrowser, openPage } from './browser-helpers.ts';

const password = (name: string) => `${name} has a long password`;
const basic = (name: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${password(name)}`).toString('base64')}` });
const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
const post = (base: string, room: string, text: string, headers: Record<string, string>) =>
  fetch(`${base}/rooms/${room}/messages`, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ text }) });
const dm = async (base: string, target: string, headers: Record<string, string>) => {
  const res = await fetch(`${base}/dm/${target}`, { headers: { Accept: 'application/json', ...headers } });
  expect(res.status).toBe(200);
  return (await res.json()) as { room: string; with: string | null; url: string };
};
/** `bun run user ARGS` on a data folder (or, with `--store URL` given, on that store); the password is the name's. */
const user = (data: string, ...args: string[]) => {
  const where = data.startsWith('redis://') ? ['--store', data] : ['--data', data];
  const run = Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), ...args, ...where], { stdin: new Blob([password(args[1]!)]) });
  expect(run.exitCode).toBe(0);
};

describe('direct messages with accounts', () => {
  const data = tempDir();
  let server: ServerProcess;
  let browser: Browser;
  beforeAll(async () => {
    for (const name of ['alice', 'bob', 'carol', 'dave']) user(data.path, 'add', name, '--password-stdin');
    user(data.path, 'add', 'root', '--admin', '--password-stdin');
    user(data.path, 'access', 'dave', 'dm-*', 'read-only');
    server = await startServer(['--data', data.path, '--auth', 'accounts', '--default-access', 'read-write']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server.stop();
    data.remove();
  });

  it('gives both people the same room, which they read and write, and tell nobody else', async () => {
    const fromAlice = await dm(server.url, '@bob', basic('alice'));
    const fromBob = await dm(server.url, '@alice', basic('bob'));
    expect(fromAlice.room).toMatch(/^dm-[0-9a-f]{20}-[0-9a-f]{20}$/);
    expect(fromBob.room).toBe(fromAlice.room);
    expect(fromAlice.with).toBe('bob');
    expect(fromBob.with).toBe('alice');
    const room = fromAlice.room;

    const bobs = await openStream(`${server.url}/rooms/${room}/events?history=0`, basic('bob'));
    const sent = await post(server.url, room, 'just between us', basic('alice'));
    expect(sent.status).toBe(201);
    const message = (await sent.json()) as { id: string; person: string };
    expect((await bobs.next((e) => e.id === message.id, "alice's message on bob's stream")).data).toContain('just between us');
    expect((await post(server.url, room, 'and back', basic('bob'))).status).toBe(201);
    // The person key in a message leads the other way: bob's key from alice is alice's room with him.
    expect((await dm(server.url, message.person, basic('bob'))).room).toBe(room);

    // Nobody else: another account, an admin, the anonymous; on every route that touches a room.
    for (const [who, headers, status] of [['carol', basic('carol'), 403], ['root (an admin)', basic('root'), 403], ['the anonymous', {}, 401]] as const) {
      const refusals = [
        await fetch(`${server.url}/rooms/${room}/messages`, { headers }),
        await fetch(`${server.url}/rooms/${room}/events?history=10`, { headers }),
        await fetch(`${server.url}/rooms/${room}/messages?q=between`, { headers }),
        await post(server.url, room, `${who} was here`, headers),
        await fetch(`${server.url}/rooms/${room}/typing`, { method: 'POST', headers: { ...json, ...headers, 'X-Client-Id': 'k-0123456789abcdef' }, body: '{}' }),
        await fetch(`${server.url}/rooms/${room}/messages/${message.id}`, { method: 'DELETE', headers }),
      ];
      expect([who, refusals.map((r) => r.status)]).toEqual([who, refusals.map(() => status)]);
      const listed = (await (await fetch(`${server.url}/rooms`, { headers: { Accept: 'application/json', ...headers } })).json()) as { rooms: { name: string }[] };
      expect(listed.rooms.map((r) => r.name)).not.toContain(room);
    }
    // The two see it in their room list, named after the other.
    const alicesList = (await (await fetch(`${server.url}/rooms`, { headers: { Accept: 'application/json', ...basic('alice') } })).json()) as { rooms: { name: string; with?: string }[] };
    expect(alicesList.rooms.find((r) => r.name === room)?.with).toBe('bob');
    expect(await (await fetch(`${server.url}/rooms?format=text`, { headers: basic('bob') })).text()).toContain(`#${room} (@alice)`);
    bobs.close();
  });

  it('refuses what names nobody, and keeps an operator dm-* rule', async () => {
    const none = await fetch(`${server.url}/dm/@nobody`, { headers: basic('alice') });
    expect(none.status).toBe(404);
    expect((await none.json()).error).toBe('there is no account "nobody"');
    expect((await fetch(`${server.url}/dm/not-a-key`, { headers: basic('alice') })).status).toBe(400);
    expect((await fetch(`${server.url}/dm/@bob`)).status).toBe(401);
    // A room of the dm- form for someone else's pair, or with its keys out of order, is nobody's to take.
    const theirs = (await dm(server.url, '@carol', basic('bob'))).room;
    expect((await post(server.url, theirs, 'let me in', basic('alice'))).status).toBe(403);
    const [, a, b] = theirs.split('-');
    expect((await post(server.url, `dm-${b}-${a}`, 'reversed', basic('bob'))).status).toBe(403);
    // dave's direct rooms are read-only (user access dave dm-* read-only): he reads, and may not write.
    const withDave = (await dm(server.url, '@dave', basic('alice'))).room;
    expect((await post(server.url, withDave, 'hi dave', basic('alice'))).status).toBe(201);
    expect((await fetch(`${server.url}/rooms/${withDave}/messages`, { headers: basic('dave') })).status).toBe(200);
    expect((await post(server.url, withDave, 'hi alice', basic('dave'))).status).toBe(403);
  });

  it("opens from a person's name on the page, with the keyboard alone, titled after them", async () => {
    const signIn = async (page: Page, name: string) => {
      await page.goto(`${server.url}/login?next=/rooms/lobby`);
      await page.locator('#login-user').fill(name);
      await page.locator('#login-password').fill(password(name));
      await page.locator('#login-password').press('Enter');
      await page.waitForURL((url) => url.pathname === '/rooms/lobby');
    };
    const problems: string[] = [];
    // Over HTTPS (THREADCHAT_TEST_TLS_DIR), Chromium is told to take the run's own certificate.
    const page = await openPage(browser, 'carol', problems, { ignoreHTTPSErrors: true });
    await signIn(page, 'carol');
    const said = (await (await post(server.url, 'lobby', 'ask me anything', basic('bob'))).json()) as { id: string };
    const name = page.locator(`#m-${said.id} .person-link`);
    await name.waitFor();
    expect(await name.textContent()).toBe('bob');
    // The keyboard reaches it: from the list, Up to the newest message, Left to its sender's name, Enter.
    await page.locator('#messages').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowLeft');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('bob');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname.startsWith('/rooms/dm-'));
    expect(await page.locator('h1.room-name').textContent()).toBe('@bob');
    expect(await page.title()).toBe('@bob · threadchat');
    await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the direct room to be live');
    await page.locator('#text').fill('hello bob, privately');
    await page.locator('#text').press('Enter');
    const room = new URL(page.url()).pathname.split('/').at(-1)!;
    await waitFor(async () => {
      const res = await fetch(`${server.url}/rooms/${room}/messages`, { headers: { Accept: 'application/json', ...basic('bob') } });
      return ((await res.json()) as { messages: { text: string }[] }).messages.some((m) => m.text === 'hello bob, privately');
    }, "carol's message in bob's history");
    // Back in another room, the switcher offers the direct room under the other person's name.
    await page.goto(`${server.url}/rooms/lobby`);
    await page.locator('#room-input').focus();
    const labels = () => page.locator('#recent-rooms option').evaluateAll((os) => os.map((o) => `${(o as HTMLOptionElement).value} ${(o as HTMLOptionElement).label}`));
    expect(await waitFor(async () => (await labels()).find((l) => l.startsWith(room)), 'the direct room in the switcher')).toStartWith(`${room} @bob`);
    expect(problems).toEqual([]);
  });
});

describe('direct messages on two instances sharing Redis', () => {
  const prefix = uniquePrefix('direct');
  const url = storeUrl(SHARED_REDIS, DB.e2e, prefix);
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    for (const name of ['alice', 'bob', 'carol']) user(url, 'add', name, '--password-stdin');
    [a, b] = await Promise.all([startServer(['--store', url, '--auth', 'accounts']), startServer(['--store', url, '--auth', 'accounts'])]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
  });

  it('is the same room on both, delivered across them, and refused to a third person on either', async () => {
    const { room } = await dm(a.url, '@bob', basic('alice'));
    expect(await dm(b.url, '@alice', basic('bob'))).toEqual({ room, with: 'alice', url: `/rooms/${room}` });
    const onB = await openStream(`${b.url}/rooms/${room}/events?history=0`, basic('bob'));
    const sent = (await (await post(a.url, room, 'across instances', basic('alice'))).json()) as { id: string };
    await onB.next((e) => e.id === sent.id, "alice's message on bob's stream on the other instance");
    for (const server of [a, b]) {
      expect((await fetch(`${server.url}/rooms/${room}/messages`, { headers: basic('carol') })).status).toBe(403);
      expect((await fetch(`${server.url}/rooms/${room}/events`, { headers: basic('carol') })).status).toBe(403);
    }
    onB.close();
  });
});

describe('direct messages with JWTs', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let key: CryptoKey;
  const bearer = async (sub: string, name: string, chat: Record<string, string[]> = { read: ['*'], write: ['*'] }) => ({
    Authorization: `Bearer ${await new SignJWT({ sub, name, chat }).setProtectedHeader({ alg: 'ES256' }).setAudience('chat').setExpirationTime('10m').sign(key)}`,
  });
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    writeFileSync(join(dir.path, 'public.pem'), await exportSPKI(pair.publicKey));
    server = await startServer(['--store', 'memory', '--auth', 'jwt', '--jwt-key', join(dir.path, 'public.pem'), '--jwt-alg', 'ES256', '--jwt-audience', 'chat']);
  });
  afterAll(async () => {
    await server.stop();
    dir.remove();
  });

  it("keys the room on the subjects, so a token for another subject with the same name is refused", async () => {
    const ann = await bearer('u-1', 'Ann');
    await fetch(`${server.url}/rooms/main/messages`, { headers: ann }); // this instance now knows u-1 as Ann
    const { room, with: name } = await dm(server.url, '@u-1', await bearer('u-2', 'Ben'));
    expect(name).toBe('Ann');
    expect((await post(server.url, room, 'hi Ann', await bearer('u-2', 'Ben'))).status).toBe(201);
    expect((await fetch(`${server.url}/rooms/${room}/messages`, { headers: ann })).status).toBe(200);
    // Another subject, whatever name and rules its token carries, may not.
    expect((await fetch(`${server.url}/rooms/${room}/messages`, { headers: await bearer('u-3', 'Ann') })).status).toBe(403);
    expect((await post(server.url, room, 'me too', await bearer('u-3', 'Ben', { write: [room] }))).status).toBe(403);
  });
});
