/**
 * `--auth accounts` against real servers and the real `bun run user` command on the same store: accounts made
 * while the server runs, curl signing in with -u and with an access token, the identity's name on what is posted,
 * per-room access, --default-access, the page's sign-in form, and revocations (a password change, a deleted
 * account, a sign-out) that end open streams within a second or two, on SQLite and across two instances on Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, openStream, ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';

const ALICE = 'alice has a long password';
const BOB = 'bob has another password';

/** Runs `bun run user ARGS` on a store, with `stdin` piped in; its exit code and output. */
async function user(store: string[], args: string[], stdin = '') {
  const proc = Bun.spawn([BUN, join(ROOT, 'scripts/user.ts'), ...args, ...store], { stdin: new Blob([stdin]), stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
const basic = (name: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
const postAs = (base: string, room: string, text: string, headers: Record<string, string>) =>
  fetch(`${base}/rooms/${room}/messages?name=mallory`, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'text/plain', ...headers }, body: text });
const signIn = (base: string, name: string, password: string) =>
  fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ user: name, password, next: '/rooms/main' }), redirect: 'manual' });
const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

describe('accounts on SQLite, managed with bun run user while the server runs', () => {
  const data = tempDir();
  const store = ['--data', data.path];
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path, '--auth', 'accounts']);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('adds accounts beside the running server, and refuses a short password, a bad name and a second add', async () => {
    expect((await user(store, ['add', 'alice', '--admin', '--password-stdin'], `${ALICE}\n`)).code).toBe(0);
    expect((await user(store, ['add', 'bob', '--password-stdin'], BOB)).code).toBe(0);
    const short = await user(store, ['add', 'carol', '--password-stdin'], 'short');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    expect((await user(store, ['add', 'Al ice', '--password-stdin'], ALICE)).code).toBe(2);
    expect((await user(store, ['add', 'bob', '--password-stdin'], BOB)).stderr).toContain('has an account already');
    const list = await user(store, ['list']);
    expect(list.stdout).toContain('alice\tadmin\taccess *=read-write');
    expect(list.stdout).toContain('bob\tuser\taccess *=read-write');
    expect((await user(store, ['--help'])).stdout).toContain('token NAME [--expires 30d]');
  });

  it('takes curl -u and an access token, and stores the identity\'s name whatever the request says', async () => {
    const byPassword = await postAs(server.url, 'main', 'from alice', basic('alice', ALICE));
    expect(byPassword.status).toBe(201);
    expect((await byPassword.json()).name).toBe('alice');
    const made = await user(store, ['token', 'bob', '--expires', '1d']);
    const token = made.stdout.trim().split('\n').at(-1)!;
    expect(token).toMatch(/^tc_[A-Za-z0-9_-]{43}$/);
    const byToken = await postAs(server.url, 'main', 'from bob', { Authorization: `Bearer ${token}` });
    expect(byToken.status).toBe(201);
    expect((await byToken.json()).name).toBe('bob');
    expect((await postAs(server.url, 'main', 'wrong', basic('alice', 'not the password at all'))).status).toBe(401);
    expect((await user(store, ['revoke', 'bob', token])).code).toBe(0);
    expect((await postAs(server.url, 'main', 'revoked', { Authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it('refuses the anonymous (--default-access deny) and a room denied to the person, 403 for history, stream and posts', async () => {
    const anonymous = await postAs(server.url, 'main', 'who am I', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect((await fetch(`${server.url}/rooms/main/messages`)).status).toBe(401);
    expect((await user(store, ['access', 'bob', 'secret-*', 'deny'])).code).toBe(0);
    const bob = basic('bob', BOB);
    expect((await postAs(server.url, 'secret-plans', 'x', bob)).status).toBe(403);
    expect((await fetch(`${server.url}/rooms/secret-plans/messages`, { headers: bob })).status).toBe(403);
    expect((await openStream(`${server.url}/rooms/secret-plans/events`, bob)).status).toBe(403);
    expect((await fetch(`${server.url}/rooms/secret-plans/members`, { headers: bob })).status).toBe(403);
    expect((await postAs(server.url, 'secret-plans', 'admins may', basic('alice', ALICE))).status).toBe(201);
    expect((await fetch(`${server.url}/status/events`, { headers: bob })).status).toBe(403); // admins only
  });

  it('ends the open streams of someone denied a room they follow, within 2 s, and refuses them there after', async () => {
    const bob = basic('bob', BOB);
    const stream = await openStream(`${server.url}/rooms/lounge/events?history=0`, bob);
    expect(stream.status).toBe(200);
    expect((await user(store, ['access', 'bob', 'lounge', 'deny'])).code).toBe(0);
    const bye = await stream.next((e) => e.event === 'bye', 'the stream ending within 2 s', 2_500);
    expect(JSON.parse(bye.data)).toEqual({ reason: 'revoked' });
    expect((await openStream(`${server.url}/rooms/lounge/events?history=0`, bob)).status).toBe(403);
    expect((await user(store, ['access', 'bob', 'lounge', 'read-write'])).code).toBe(0);
    const again = await openStream(`${server.url}/rooms/lounge/events?history=0`, bob);
    expect(again.status).toBe(200);
    again.close();
  });

  it('signs the page in with user and password, and a new password ends the sessions and their open streams', async () => {
    const res = await signIn(server.url, 'bob', BOB);
    expect(res.status).toBe(303);
    const cookie = cookieOf(res);
    const attributes = res.headers.get('set-cookie')!.split(';').map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    // Over https (the suite's HTTPS pass) the cookie is `__Host-` prefixed and Secure; over http neither.
    const https = server.url.startsWith('https:');
    expect(cookie.startsWith('__Host-chat_session=')).toBe(https);
    expect(attributes.includes('Secure')).toBe(https);
    const stream = await openStream(`${server.url}/rooms/main/events?history=0`, { Cookie: cookie });
    expect(stream.status).toBe(200);
    const changed = await user(store, ['passwd', 'bob', '--password-stdin'], 'bob has a brand new password');
    expect(changed.stdout).toContain('1 session(s) ended');
    const bye = await stream.next((e) => e.event === 'bye', 'the stream ending within 2 s', 2_500);
    expect(JSON.parse(bye.data)).toEqual({ reason: 'revoked' });
    expect((await fetch(`${server.url}/rooms/main/messages`, { headers: { Cookie: cookie } })).status).toBe(401);
    expect((await signIn(server.url, 'bob', 'bob has a brand new password')).status).toBe(303);
  });

  it('deletes an account: its access tokens and sessions stop, and its streams end', async () => {
    const token = (await user(store, ['token', 'bob'])).stdout.trim().split('\n').at(-1)!;
    const stream = await openStream(`${server.url}/rooms/main/events?history=0`, { Authorization: `Bearer ${token}` });
    expect(stream.status).toBe(200);
    expect((await user(store, ['del', 'bob'])).code).toBe(0);
    await stream.next((e) => e.event === 'bye', 'the stream ending within 2 s', 2_500);
    expect((await postAs(server.url, 'main', 'gone', { Authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await user(store, ['list'])).stdout).not.toContain('bob');
  });
});

describe('--default-access read-only', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--auth', 'accounts', '--default-access', 'read-only']);
  });
  afterAll(() => server.stop());

  it('lets the anonymous read and follow a room, and not post or type in it', async () => {
    expect((await fetch(`${server.url}/rooms/main/messages`)).status).toBe(200);
    const stream = await openStream(`${server.url}/rooms/main/events`);
    expect(stream.status).toBe(200);
    stream.close();
    expect((await postAs(server.url, 'main', 'hi', {})).status).toBe(401);
    expect((await fetch(`${server.url}/rooms/main/typing`, { method: 'POST' })).status).toBe(401);
  });
});

describe('two instances on one Redis', () => {
  const prefix = uniquePrefix('accounts');
  const url = storeUrl(SHARED_REDIS, DB.e2e, prefix);
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(['--store', url, '--auth', 'accounts']), startServer(['--store', url, '--auth', 'accounts'])]);
    expect((await user(['--store', url], ['add', 'alice', '--password-stdin'], ALICE)).code).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
  });

  it('share a sign-in, and a sign-out on one ends the session and its streams on the other', async () => {
    const cookie = cookieOf(await signIn(a.url, 'alice', ALICE));
    const stream = await openStream(`${b.url}/rooms/main/events?history=0`, { Cookie: cookie });
    expect(stream.status).toBe(200);
    expect((await postAs(b.url, 'main', 'on b', { Cookie: cookie })).status).toBe(201);
    expect((await fetch(`${a.url}/logout`, { method: 'POST', headers: { Cookie: cookie } })).status).toBe(204);
    const bye = await stream.next((e) => e.event === 'bye', 'the stream on the other instance ending within 2 s', 2_500);
    expect(JSON.parse(bye.data)).toEqual({ reason: 'revoked' });
    expect((await postAs(b.url, 'main', 'signed out', { Cookie: cookie })).status).toBe(401);
  });
});
