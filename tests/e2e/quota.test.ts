/**
 * Quotas per identity on a real server (middleware/quota.ts): new rooms an hour and bytes of text a day, past
 * which a post gets 429 with Retry-After and a reason naming the option, while posts into existing rooms, and
 * other identities, go on. Two anonymous identities are two addresses: the server trusts 127.0.0.1 as a proxy
 * and each request names its client in X-Forwarded-For. The post rates are set high so that only quotas refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startServer, type ServerProcess } from '../helpers.ts';

const FAST = ['--store', 'memory', '--trust-proxy', '127.0.0.1', '--post-rate', '1000', '--post-burst', '1000', '--post-rate-ip', '1000', '--post-burst-ip', '1000'];

/** POSTs `text` into `room` as the client at `from` (X-Forwarded-For); the status, Retry-After and reason. */
async function postAs(base: string, from: string, room: string, text: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Forwarded-For': from, ...headers },
    body: JSON.stringify({ name: 'q', text }),
  });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), error: body.error ?? '' };
}

const held = async (base: string, room: string) =>
  ((await (await fetch(`${base}/rooms/${room}/messages?limit=100`)).json()) as { messages: { text: string }[] }).messages.length;

describe('quotas', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer([...FAST, '--quota-rooms-hour', '3', '--quota-bytes-day', '2000']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('refuses the 4th new room in the hour with 429 and Retry-After, while existing rooms and other addresses go on', async () => {
    const from = '203.0.113.1';
    // Refused posts store nothing and open no room: they cost nothing.
    for (const room of ['bad-1', 'bad-2', 'bad-3', 'bad-4']) expect((await postAs(server.url, from, room, '')).status).toBe(422);
    for (const room of ['new-1', 'new-2', 'new-3']) expect((await postAs(server.url, from, room, `into ${room}`)).status).toBe(201);
    const refused = await postAs(server.url, from, 'new-4', 'one room too many');
    expect(refused.status).toBe(429);
    // One room comes back every 3600 / 3 = 1200 s.
    expect(Number(refused.retryAfter)).toBeGreaterThan(1100);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(1200);
    expect(refused.error).toContain('3 new rooms an hour');
    expect(refused.error).toContain('--quota-rooms-hour');
    expect(await held(server.url, 'new-4')).toBe(0);
    // A room with messages is no new room: posting there goes on.
    expect((await postAs(server.url, from, 'new-1', 'still talking')).status).toBe(201);
    // Another address has rooms of its own to open, new-4 among them.
    expect((await postAs(server.url, '203.0.113.2', 'new-4', 'someone else')).status).toBe(201);
    // ... and new-4 now has a message, so for the first address it is a room like new-1.
    expect((await postAs(server.url, from, 'new-4', 'joining in')).status).toBe(201);
  });

  it("refuses text past the day's bytes (UTF-8 bytes, not characters) with 429, and what still fits goes through", async () => {
    const from = '203.0.113.3';
    expect((await postAs(server.url, from, 'bytes', 'é'.repeat(450))).status).toBe(201); // 450 characters, 900 bytes
    expect((await postAs(server.url, from, 'bytes', 'x'.repeat(900))).status).toBe(201); // 1800 bytes in all
    // 150 characters, which would fit were characters counted; 300 bytes do not (200 are left).
    const refused = await postAs(server.url, from, 'bytes', 'é'.repeat(150));
    expect(refused.status).toBe(429);
    // 100 bytes short, refilled at 2000 a day: 4320 s.
    expect(Number(refused.retryAfter)).toBeGreaterThan(4200);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(4320);
    expect(refused.error).toContain('2000 bytes of messages a day');
    expect(refused.error).toContain('--quota-bytes-day');
    expect((await postAs(server.url, from, 'bytes', 'y'.repeat(150))).status).toBe(201);
    expect(await held(server.url, 'bytes')).toBe(3);
    // Another address has a day of its own.
    expect((await postAs(server.url, '203.0.113.4', 'bytes', 'z'.repeat(1900))).status).toBe(201);
    // A text larger than a whole day's bytes can never fit: 413, not a 429 to come back to.
    const never = await postAs(server.url, '203.0.113.5', 'bytes', 'w'.repeat(2001));
    expect(never.status).toBe(413);
    expect(never.error).toContain('--quota-bytes-day');
  });
});

describe('quotas off, and admins', () => {
  it('takes 0 as no quota', async () => {
    const server = await startServer([...FAST, '--quota-rooms-hour', '0', '--quota-bytes-day', '0']);
    try {
      for (let i = 0; i < 8; i++) expect((await postAs(server.url, '203.0.113.6', `open-${i}`, 'x'.repeat(3000))).status).toBe(201);
    } finally {
      await server.stop();
    }
  });

  it('lets an admin (a holder of the shared token) past both', async () => {
    const token = 'a shared token for the quota test';
    const server = await startServer([...FAST, '--token', token, '--quota-rooms-hour', '1', '--quota-bytes-day', '1000']);
    try {
      const auth = { Authorization: `Bearer ${token}` };
      for (let i = 0; i < 3; i++) expect((await postAs(server.url, '203.0.113.7', `admin-${i}`, 'x'.repeat(900), auth)).status).toBe(201);
    } finally {
      await server.stop();
    }
  });
});
