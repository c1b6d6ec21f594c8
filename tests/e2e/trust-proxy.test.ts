/**
 * --trust-proxy over real HTTP: behind a trusted proxy each forwarded client has its own per-address limits (posts
 * and streams) and its own name in the logs; without the option, or from a peer outside the list, a spoofed
 * X-Forwarded-For changes nothing. Requests "from another machine" come from 127.0.0.2 (a raw socket bound to it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { connect, type Socket } from 'node:net';
import { health, openStream, startServer, waitFor, type ServerProcess } from '../helpers.ts';

const LIMITS = ['--store', 'memory', '--post-rate-ip', '1', '--post-burst-ip', '3', '--max-streams-per-ip', '1'];
/** More posts than the burst and whatever the bucket refills (1 a second) while a slow machine sends them. */
const ATTEMPTS = 10;

interface Raw {
  status: number;
  close(): void;
}

/**
 * One HTTP/1.1 request over a socket bound to `from`; resolves with the status once the response head is in
 * and leaves the socket open (a stream stays open until close()).
 */
function rawRequest(base: string, from: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from }, () => {
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (method === 'POST') lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close');
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    });
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n\r\n')) {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1]);
        resolve({ status, close: () => socket.destroy() });
      }
    });
    socket.on('error', reject);
  });
}

/** The statuses of ATTEMPTS posts from `from`, each with the headers `headersOf(i)` gives. */
async function postStatuses(base: string, from: string, headersOf: (i: number) => Record<string, string>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    const answer = await rawRequest(base, from, 'POST', '/rooms/proxied/messages', headersOf(i), JSON.stringify({ text: `post ${i}` }));
    answer.close();
    statuses.push(answer.status);
  }
  return statuses;
}

/** Posts from 127.0.0.1 with `X-Forwarded-For: address` until one is refused; fails if none is. */
async function exhaust(base: string, address: string) {
  const statuses = await postStatuses(base, '127.0.0.1', () => ({ 'X-Forwarded-For': address }));
  expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
  expect(statuses).toContain(429);
}

const streamFrom = (base: string, from: string, headers: Record<string, string>) => rawRequest(base, from, 'GET', '/rooms/proxied/events', headers);

async function noStreams(server: ServerProcess) {
  await waitFor(async () => (await health(server.url)).streams === 0, 'no streams open');
}

/** The first stream opens and the second gets 503: both count against one address (--max-streams-per-ip 1). */
async function expectOneStreamOnly(open1: () => Promise<{ status: number; close(): void }>, open2: () => Promise<{ status: number; close(): void }>) {
  const first = await open1();
  const second = await open2();
  try {
    expect(first.status).toBe(200);
    expect(second.status).toBe(503);
  } finally {
    first.close();
    second.close();
  }
}

describe('--trust-proxy 127.0.0.1', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer([...LIMITS, '--trust-proxy', '127.0.0.1', '--log', 'json']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('gives each forwarded client its own per-address post limit', async () => {
    await exhaust(server.url, '203.0.113.1');
    const [other] = await postStatuses(server.url, '127.0.0.1', () => ({ 'X-Forwarded-For': '203.0.113.2' }));
    expect(other).toBe(201);
    // The same client through two proxies: its own bucket still, already spent.
    const [again] = await postStatuses(server.url, '127.0.0.1', () => ({ 'X-Forwarded-For': '203.0.113.1, 127.0.0.1' }));
    expect(again).toBe(429);
    // An IPv6 client behind the IPv4 proxy has its own bucket too.
    const [v6] = await postStatuses(server.url, '127.0.0.1', () => ({ Forwarded: 'for="[2001:db8::7]:4711"' }));
    expect(v6).toBe(201);
  });

  it('counts an IPv6 client by its /64: another address of the same /64 shares its limits, another /64 does not', async () => {
    await exhaust(server.url, '2001:db8:1:2::1');
    const [sameNet] = await postStatuses(server.url, '127.0.0.1', () => ({ 'X-Forwarded-For': '2001:db8:1:2:ffff:eeee:dddd:1' }));
    expect(sameNet).toBe(429);
    const [otherNet] = await postStatuses(server.url, '127.0.0.1', () => ({ 'X-Forwarded-For': '2001:db8:1:3::1' }));
    expect(otherNet).toBe(201);
    await noStreams(server);
    await expectOneStreamOnly(
      () => streamFrom(server.url, '127.0.0.1', { 'X-Forwarded-For': '2001:db8:9:9::1' }),
      () => streamFrom(server.url, '127.0.0.1', { 'X-Forwarded-For': '2001:db8:9:9::2' }),
    );
  });

  it('gives each forwarded client its own per-address stream limit, and logs it with the proxy', async () => {
    await noStreams(server);
    const first = await openStream(`${server.url}/rooms/proxied/events`, { 'X-Forwarded-For': '203.0.113.3' });
    const same = await openStream(`${server.url}/rooms/proxied/events`, { 'X-Forwarded-For': '203.0.113.3' });
    const other = await openStream(`${server.url}/rooms/proxied/events`, { 'X-Forwarded-For': '203.0.113.4' });
    try {
      expect(first.status).toBe(200);
      expect(same.status).toBe(503);
      expect(other.status).toBe(200);
      const logged = await waitFor(() => server.output().match(/Accepted connection from 203\.0\.113\.3 via 127\.0\.0\.1:\d+/), 'the stream in the log');
      expect(logged[0]).toBeTruthy();
    } finally {
      for (const s of [first, same, other]) s.close();
    }
    await noStreams(server);
  });

  it('believes no header from a peer outside the list (127.0.0.2)', async () => {
    const statuses = await postStatuses(server.url, '127.0.0.2', (i) => ({ 'X-Forwarded-For': `198.51.100.${i}`, Forwarded: `for=198.51.100.${100 + i}` }));
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(ATTEMPTS - 3 - 2);
    await noStreams(server);
    await expectOneStreamOnly(() => streamFrom(server.url, '127.0.0.2', { 'X-Forwarded-For': '198.51.100.50' }), () => streamFrom(server.url, '127.0.0.2', { 'X-Forwarded-For': '198.51.100.51' }));
    await noStreams(server);
  });
});

describe('without --trust-proxy', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(LIMITS);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a spoofed X-Forwarded-For or Forwarded changes neither limit', async () => {
    const statuses = await postStatuses(server.url, '127.0.0.1', (i): Record<string, string> => (i % 2 ? { 'X-Forwarded-For': `198.51.100.${i}` } : { Forwarded: `for=198.51.100.${i}` }));
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(ATTEMPTS - 3 - 2);
    await noStreams(server);
    await expectOneStreamOnly(
      () => openStream(`${server.url}/rooms/proxied/events`, { 'X-Forwarded-For': '198.51.100.60' }),
      () => openStream(`${server.url}/rooms/proxied/events`, { 'X-Forwarded-For': '198.51.100.61' }),
    );
  });
});
