/**
 * The door, over real HTTP: a request that changes something (POST, PUT, PATCH, DELETE) from another origin, by
 * its `Origin` or its `Sec-Fetch-Site`, is refused on every route, while clients that send no Origin (curl,
 * bin/chat) go on; and the `Host` name is checked (DNS rebinding): loopback names, and --public-url's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openStream, startServer, waitFor, type ServerProcess } from '../helpers.ts';

const EVIL = 'http://evil.example';
const QUIET = ['--store', 'memory', '--post-rate', '0', '--post-rate-ip', '0'];

/** A request to `path` on the server with these headers (no redirect followed: a 303 is an answer here). */
const send = (server: ServerProcess, path: string, init: { method?: string; headers?: Record<string, string>; body?: string | URLSearchParams } = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', ...init });

/** A form-encoded message, as a browser's form or a `no-cors` fetch sends one. */
const formPost = (server: ServerProcess, room: string, text: string, headers: Record<string, string> = {}) =>
  send(server, `/rooms/${room}/messages`, { headers: { Accept: 'application/json', ...headers }, body: new URLSearchParams({ name: 'mallory', text }) });

const jsonPost = (server: ServerProcess, room: string, text: string, headers: Record<string, string> = {}) =>
  send(server, `/rooms/${room}/messages`, { headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers }, body: JSON.stringify({ name: 'm', text }) });

const texts = async (server: ServerProcess, room: string): Promise<string[]> =>
  ((await (await fetch(`${server.url}/rooms/${room}/messages?limit=500`)).json()) as { messages: { text: string }[] }).messages.map((m) => m.text);

/** The status and the reason of a refusal (`{"error": …}`, or text). */
async function answer(res: Response) {
  const body = await res.text();
  const reason = () => {
    try {
      return (JSON.parse(body) as { error: string }).error;
    } catch {
      return body;
    }
  };
  return { status: res.status, error: res.status >= 400 ? reason() : null };
}

describe('requests from another origin', () => {
  let server: ServerProcess;
  let own: string;
  beforeAll(async () => {
    server = await startServer(QUIET);
    own = new URL(server.url).origin;
  });
  afterAll(() => server?.stop());

  it('refuses a form post with a foreign Origin with 403 and stores nothing (a JSON body and Origin: null too)', async () => {
    const form = await answer(await formPost(server, 'door', 'evil form', { Origin: EVIL }));
    expect(form.status).toBe(403);
    expect(form.error).toContain(`from another origin (${EVIL})`);
    expect((await formPost(server, 'door', 'null origin', { Origin: 'null' })).status).toBe(403); // a sandboxed frame, a redirect
    expect((await jsonPost(server, 'door', 'evil json', { Origin: EVIL })).status).toBe(403);
    expect((await formPost(server, 'door', 'other port', { Origin: `${own.replace(/:\d+$/, '')}:1` })).status).toBe(403);
    expect(await texts(server, 'door')).toEqual([]);
  });

  it('refuses Sec-Fetch-Site cross-site or same-site unless the Origin is its own, and a forged same-origin beside a foreign Origin', async () => {
    for (const headers of [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL },
      { 'Sec-Fetch-Site': 'same-site' },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'http://127.0.0.1:1' },
      { 'Sec-Fetch-Site': 'same-origin', Origin: EVIL },
    ] as Record<string, string>[]) {
      expect({ headers, status: (await formPost(server, 'fetch-site', JSON.stringify(headers), headers)).status }).toEqual({ headers, status: 403 });
    }
    expect(await texts(server, 'fetch-site')).toEqual([]);
  });

  it('takes posts from its own origin, and from clients that send no Origin (curl, bin/chat)', async () => {
    expect((await formPost(server, 'own', 'same origin', { Origin: own, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(201);
    expect((await jsonPost(server, 'own', 'same origin json', { Origin: own })).status).toBe(201);
    expect((await formPost(server, 'own', 'no origin')).status).toBe(201);
    expect((await formPost(server, 'own', 'typed by hand', { 'Sec-Fetch-Site': 'none' })).status).toBe(201);
    expect((await send(server, '/rooms/own/messages?name=curl', { headers: { 'Content-Type': 'text/plain' }, body: 'raw text' })).status).toBe(201);
    expect(await texts(server, 'own')).toEqual(['same origin', 'same origin json', 'no origin', 'typed by hand', 'raw text']);
  });

  it('guards renames, typing notices, sign-in, sign-out and every other unsafe method the same way', async () => {
    const stream = await openStream(`${server.url}/rooms/door-members/events?client=c-1&name=alice`);
    await stream.next((e) => e.event === 'presence', 'the first presence');
    const members = async () => ((await (await fetch(`${server.url}/rooms/door-members/members`)).json()) as { members: string[] }).members;
    const rename = (headers: Record<string, string>) => send(server, '/rooms/door-members/members/c-1', { method: 'PUT', headers: { 'Content-Type': 'text/plain', ...headers }, body: 'mallory' });
    expect((await rename({ Origin: EVIL })).status).toBe(403);
    expect(await members()).toEqual(['alice']);
    expect((await rename({ Origin: own })).status).toBe(200);
    expect(await members()).toEqual(['mallory']);
    stream.close();

    const typing = (headers: Record<string, string>) => send(server, '/rooms/door/typing', { headers: { 'X-Client-Id': 'c-2', ...headers }, body: new URLSearchParams({ name: 'm' }) });
    expect((await typing({ Origin: EVIL })).status).toBe(403);
    expect((await typing({ Origin: own })).status).toBe(204);
    const login = (headers: Record<string, string>) => send(server, '/login', { headers, body: new URLSearchParams({ token: 'x', next: '/' }) });
    // What sign-in and sign-out answer from their own origin is theirs to say (it depends on --auth): not 403.
    expect((await login({ Origin: EVIL })).status).toBe(403);
    expect((await login({ Origin: own })).status).not.toBe(403);
    expect((await send(server, '/logout', { headers: { Origin: EVIL } })).status).toBe(403);
    expect((await send(server, '/logout', { headers: { Origin: own } })).status).not.toBe(403);
    for (const method of ['PATCH', 'DELETE', 'PUT']) {
      expect((await send(server, '/rooms/door/messages', { method, headers: { Origin: EVIL } })).status).toBe(403);
      expect((await send(server, '/rooms/door/messages', { method })).status).toBe(404);
    }
  });
});

describe('Host names, bound to 127.0.0.1 without --public-url', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(QUIET);
  });
  afterAll(() => server?.stop());

  it('answers loopback names on any port: 127.0.0.1, localhost, [::1]', async () => {
    for (const host of [`localhost:${server.port}`, 'localhost', 'LOCALHOST:1', `[::1]:${server.port}`, '127.0.0.1', `127.0.0.1:${server.port}`]) {
      expect({ host, status: (await send(server, '/', { method: 'GET', headers: { Host: host } })).status }).toEqual({ host, status: 200 });
    }
    expect((await jsonPost(server, 'hosts', 'to localhost', { Host: `localhost:${server.port}`, Origin: `${new URL(server.url).protocol}//localhost:${server.port}` })).status).toBe(201);
  });

  it('refuses another name (DNS rebinding) with 421 and a reason naming --public-url, on GET and POST, storing nothing', async () => {
    const rebound = `attacker.example:${server.port}`;
    for (const path of ['/', '/rooms/hosts/messages', '/rooms/hosts/members', '/metrics']) {
      const got = await answer(await send(server, path, { method: 'GET', headers: { Host: rebound } }));
      expect({ path, status: got.status }).toEqual({ path, status: 421 });
      expect(got.error).toContain('--public-url');
    }
    // The rebinding page's own origin is attacker.example's: the Origin check alone would take it.
    const posted = await jsonPost(server, 'hosts', 'rebound', { Host: rebound, Origin: `${new URL(server.url).protocol}//${rebound}` });
    expect(posted.status).toBe(421);
    expect((await formPost(server, 'hosts', 'rebound form', { Host: 'attacker.example' })).status).toBe(421);
    expect(await texts(server, 'hosts')).toEqual(['to localhost']);
  });

  it('answers /healthz by any name (a load balancer probing by address)', async () => {
    expect((await send(server, '/healthz', { method: 'GET', headers: { Host: '10.0.0.5:3000' } })).status).toBe(200);
  });
});

describe('Host names with --public-url https://chat.example.com', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer([...QUIET, '--public-url', 'https://chat.example.com']);
  });
  afterAll(() => server?.stop());

  it('answers its public name and loopback names, takes posts from its public origin, and refuses other names', async () => {
    expect((await send(server, '/', { method: 'GET', headers: { Host: 'chat.example.com' } })).status).toBe(200);
    expect((await send(server, '/', { method: 'GET', headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
    expect((await send(server, '/', { method: 'GET', headers: { Host: 'attacker.example' } })).status).toBe(421);
    expect((await jsonPost(server, 'public', 'from the public page', { Host: 'chat.example.com', Origin: 'https://chat.example.com' })).status).toBe(201);
    // Another port or another name under the same site is another origin.
    expect((await jsonPost(server, 'public', 'sub', { Host: 'chat.example.com', Origin: 'https://evil.chat.example.com' })).status).toBe(403);
    expect((await jsonPost(server, 'public', 'other port', { Host: 'chat.example.com', Origin: 'https://chat.example.com:8443' })).status).toBe(403);
    expect(await texts(server, 'public')).toEqual(['from the public page']);
  });
});

describe('bound to every interface without --public-url', () => {
  it('answers any Host, still refuses foreign origins, and warns once at start that names --public-url', async () => {
    const server = await startServer([...QUIET, '--host', '0.0.0.0', '--log', 'json']);
    try {
      const base = server.url.replace('0.0.0.0', '127.0.0.1');
      const get = await fetch(`${base}/`, { headers: { Host: 'chat.lan' } });
      expect(get.status).toBe(200);
      const posted = (origin: Record<string, string>) =>
        fetch(`${base}/rooms/anyhost/messages`, { method: 'POST', headers: { Host: 'chat.lan', Accept: 'application/json', ...origin }, body: new URLSearchParams({ text: 't' }) });
      expect((await posted({ Origin: EVIL })).status).toBe(403);
      expect((await posted({ Origin: `${new URL(base).protocol}//chat.lan` })).status).toBe(201);
      expect((await posted({})).status).toBe(201);
      await waitFor(() => server.output().includes('--public-url'), 'the warning');
      expect(server.output().split('\n').filter((line) => line.includes('--public-url')).length).toBe(1);
    } finally {
      await server.stop();
    }
  });
});
