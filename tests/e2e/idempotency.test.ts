import { describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, startPrivateRedis, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';

/**
 * POST with an Idempotency-Key: a retry (after a lost answer, or a 503 whose write reached the store) gets the
 * message first stored with the key, and nothing is stored twice; on every store, across instances on Redis and
 * across a restart on SQLite.
 */
const send = (base: string, room: string, text: string, key?: string, extra: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Client-Id': 'tab-1', ...(key ? { 'Idempotency-Key': key } : {}), ...extra },
    body: JSON.stringify({ name: 'ann', text }),
  });
const history = async (base: string, room: string) =>
  ((await (await fetch(`${base}/rooms/${room}/messages?limit=100`)).json()) as { messages: { id: string; text: string }[] }).messages;
const NO_LIMITS = ['--post-rate', '0', '--post-rate-ip', '0'];

describe('Idempotency-Key on POST /rooms/:room/messages', () => {
  it('answers a retry with the first message, refuses another body with 422 and a malformed key with 400', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path, ...NO_LIMITS]);
    try {
      const first = await send(server.url, 'r', 'hello', '"5c0f7b1e-9d8a-4c56-a1f2-0e4b7d2c9a31"');
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const stored = (await first.json()) as { id: string };
      const retry = await send(server.url, 'r', 'hello', '5c0f7b1e-9d8a-4c56-a1f2-0e4b7d2c9a31'); // bare or quoted: one key
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await retry.json()).toEqual(stored);
      const other = await send(server.url, 'r', 'hello again', '5c0f7b1e-9d8a-4c56-a1f2-0e4b7d2c9a31');
      expect(other.status).toBe(422);
      expect(((await other.json()) as { error: string }).error).toContain('Idempotency-Key');
      expect((await send(server.url, 'r', 'x', 'has space')).status).toBe(400);
      expect((await send(server.url, 'r', 'x', 'k'.repeat(256))).status).toBe(400);
      // Another sender's key of the same value is its own.
      expect((await send(server.url, 'r', 'hello', '5c0f7b1e-9d8a-4c56-a1f2-0e4b7d2c9a31', { 'X-Client-Id': 'tab-2' })).status).toBe(201);
      expect((await history(server.url, 'r')).map((m) => m.text)).toEqual(['hello', 'hello']);
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('gives the page form without JavaScript a key per page, so a resent form is stored once', async () => {
    const server = await startServer(['--store', 'memory', ...NO_LIMITS]);
    try {
      const keyOf = async () => /name="idempotency_key" value="([^"]+)"/.exec(await (await fetch(`${server.url}/rooms/form`)).text())?.[1];
      const key = await keyOf();
      expect(key).toMatch(/^[0-9a-f-]{36}$/);
      expect(await keyOf()).not.toBe(key);
      const submit = () =>
        fetch(`${server.url}/rooms/form/messages`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
          body: new URLSearchParams({ name: 'ann', text: 'from a form', idempotency_key: key! }),
        });
      expect((await submit()).status).toBe(303);
      expect((await submit()).status).toBe(303); // the browser resent the form (a refresh after a lost answer)
      expect((await history(server.url, 'form')).map((m) => m.text)).toEqual(['from a form']);
    } finally {
      await server.stop();
    }
  });

  it('works as the README shows it, pasted into bash with curl', async () => {
    const server = await startServer(['--store', 'memory', ...NO_LIMITS]);
    try {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const block = /### Retrying a post[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!.replaceAll('http://127.0.0.1:3000', server.url);
      const run = Bun.spawnSync(['bash', '-euc', block.replaceAll(/^curl /gm, 'curl -sS ').replaceAll(/\s+#.*$/gm, '; echo')]);
      expect(run.exitCode).toBe(0);
      const answers = run.stdout.toString().trim().split('\n').map((line) => JSON.parse(line) as { id: string; text: string });
      expect(answers.length).toBe(2);
      expect(answers[1]).toEqual(answers[0]!);
      expect((await history(server.url, 'main')).map((m) => m.text)).toEqual(['hello']);
    } finally {
      await server.stop();
    }
  });

  it('holds across a restart on SQLite', async () => {
    const data = tempDir();
    let server: ServerProcess = await startServer(['--data', data.path, ...NO_LIMITS]);
    try {
      const stored = await (await send(server.url, 'r', 'kept', 'restart-key')).json();
      expect(await server.stop()).toBe(0);
      server = await startServer(['--data', data.path, ...NO_LIMITS]);
      const retry = await send(server.url, 'r', 'kept', 'restart-key');
      expect(retry.status).toBe(201);
      expect(await retry.json()).toEqual(stored);
      expect((await history(server.url, 'r')).length).toBe(1);
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('holds across two instances on Redis', async () => {
    const prefix = uniquePrefix('idempotency');
    const url = storeUrl(SHARED_REDIS, DB.e2e, prefix);
    const [a, b] = await Promise.all([startServer(['--store', url, ...NO_LIMITS]), startServer(['--store', url, ...NO_LIMITS])]);
    try {
      const stored = await (await send(a.url, 'r', 'once', 'shared-key')).json();
      const retry = await send(b.url, 'r', 'once', 'shared-key');
      expect(retry.status).toBe(201);
      expect(await retry.json()).toEqual(stored);
      expect((await send(b.url, 'r', 'twice?', 'shared-key')).status).toBe(422);
      expect((await history(b.url, 'r')).length).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
    }
  });

  it('says a post may be stored when Redis stalls, and a retry with the key stores it once', async () => {
    const redis = await startPrivateRedis();
    const server = await startServer(['--store', storeUrl(redis.url, 0, 'stall:'), ...NO_LIMITS]);
    try {
      await send(server.url, 'r', 'before', 'k0');
      process.kill(redis.pid(), 'SIGSTOP'); // the write reaches Redis's socket; no answer comes back
      let stalled: Response;
      try {
        stalled = await send(server.url, 'r', 'while stopped', 'k1');
      } finally {
        process.kill(redis.pid(), 'SIGCONT');
      }
      expect(stalled.status).toBe(503);
      expect(stalled.headers.get('retry-after')).toBeTruthy();
      const body = (await stalled.json()) as { error: string; stored: unknown };
      expect(body.stored).toBe('unknown');
      expect(body.error).toContain('retry with the same Idempotency-Key');
      // Redis ran the write once it went on: the retry finds it, and stores nothing again.
      const retry = await send(server.url, 'r', 'while stopped', 'k1');
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect((await history(server.url, 'r')).map((m) => m.text)).toEqual(['before', 'while stopped']);
    } finally {
      await server.stop();
      await redis.remove();
    }
  });
});
