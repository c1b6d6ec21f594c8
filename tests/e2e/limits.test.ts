import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { connect } from 'node:net';
import { health, openStream, post, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';

const postRaw = (base: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/limits/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('limits', () => {
  const data = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path, '--post-rate', '2', '--post-burst', '5', '--max-streams-per-ip', '4', '--body-timeout', '500']);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it("answers a flooding client with 429 and Retry-After while another client's messages go through", async () => {
    const watcher = await openStream(`${server.url}/rooms/limits/events?client=watcher`);
    try {
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => postRaw(server.url, { text: `flood ${i}` }, { 'X-Client-Id': 'flooder' })));
      const seconds = (performance.now() - started) / 1000;
      // The burst of 5, and the 2 a second the bucket refills while the 30 arrive (a slow machine spreads them).
      const accepted = answers.filter((r) => r.status === 201).length;
      expect(accepted).toBeGreaterThanOrEqual(5);
      expect(accepted).toBeLessThanOrEqual(5 + Math.ceil(seconds * 2));
      const refused = answers.find((r) => r.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await refused.json()).error).toContain('too many messages');
      const calm = await post(server.url, 'limits', { name: 'calm', text: 'still heard' }, { 'X-Client-Id': 'calm' });
      await watcher.next((e) => e.id === calm.id, "the calm client's message");
    } finally {
      watcher.close();
    }
  });

  it('refuses streams past the per-address limit with 503 before a Worker starts', async () => {
    await waitFor(async () => (await health(server.url)).streams === 0, 'no streams open');
    const streams = await Promise.all(Array.from({ length: 4 }, () => openStream(`${server.url}/rooms/limits/events`)));
    const before = await health(server.url);
    const refused = await fetch(`${server.url}/rooms/limits/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect((await refused.json()).error).toContain('streams open');
    expect((await health(server.url)).threads).toBe(before.threads);
    streams.forEach((s) => s.close());
    await waitFor(async () => (await health(server.url)).streams === 0, 'the streams to close');
  });

  it('answers a body that arrives too slowly with 408', async () => {
    const url = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /rooms/limits/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part');
      });
      let got = '';
      socket.on('data', (d) => {
        got += d.toString();
        if (got.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toStartWith('HTTP/1.1 408');
    const history = await (await fetch(`${server.url}/rooms/limits/messages?limit=1000`)).json();
    expect(history.messages.some((m: { text: string }) => m.text.startsWith('only part'))).toBe(false);
  });
});

describe('token mode', () => {
  const data = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path], { CHAT_TOKEN: 's3cret token, long enough' });
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('needs the token to post, stream and read, and takes it as a Bearer header', async () => {
    const no = await postRaw(server.url, { text: 'no token' });
    expect(no.status).toBe(401);
    expect((await no.json()).error).toContain('token');
    expect((await postRaw(server.url, { text: 'wrong' }, { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await fetch(`${server.url}/rooms/limits/events`)).status).toBe(401);
    expect((await fetch(`${server.url}/rooms/limits/messages`)).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const auth = { Authorization: 'Bearer s3cret token, long enough' };
    const stream = await openStream(`${server.url}/rooms/limits/events`, auth);
    expect(stream.status).toBe(200);
    const m = await post(server.url, 'limits', { text: 'with token' }, auth);
    await stream.next((e) => e.id === m.id, 'the message on an authorized stream');
    stream.close();
  });

  it('signs a browser in with a form and an HttpOnly cookie', async () => {
    const page = await fetch(`${server.url}/rooms/main`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Frooms%2Fmain');
    const bad = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope', next: '/rooms/main' }), redirect: 'manual' });
    expect(bad.status).toBe(401);
    const good = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 's3cret token, long enough', next: '//evil.example/' }), redirect: 'manual' });
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/');
    const cookie = good.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const withCookie = await fetch(`${server.url}/rooms/main`, { headers: { Accept: 'text/html', Cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
  });
});
