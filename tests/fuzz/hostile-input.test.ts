/**
 * Property tests: every route, in process (`app.fetch`), against random and hostile requests. No answer may be
 * a 5xx or a crash; a 4xx says why; only an accepted post stores anything, and what is stored is valid.
 * FUZZ_RUNS scales the case counts (default 1; FUZZ_SEED replays a reported failure).
 */
import { afterAll, describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { createMemoryStore } from '../../store/memory.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import { health, startServer, tempDir, waitFor } from '../helpers.ts';
import { request, type RequestSpec } from './arbitraries.ts';
import { checkOverHttp, checkRequest, checkStore, createFuzzApp, expectedRename, invalidMessage, type FuzzApp } from './check.ts';

const scale = Number(process.env.FUZZ_RUNS ?? 1);
const seed = process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {};
const TIMEOUT = 60_000 * Math.max(1, scale);

async function runProperty(target: FuzzApp, numRuns: number) {
  const statuses = new Map<number, number>();
  let streams = 0;
  let renames = 0;
  await fc.assert(
    fc.asyncProperty(request, async (spec) => {
      const { status, stream } = await checkRequest(target, spec);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (stream) streams++;
      if (expectedRename(spec) !== null) renames++;
    }),
    { numRuns: Math.round(numRuns * scale), ...seed },
  );
  const stored = await checkStore(target);
  // The generators must reach past validation, or the property proves little.
  expect(statuses.get(201) ?? 0).toBeGreaterThan(numRuns * scale * 0.05);
  expect(streams).toBeGreaterThan(numRuns * scale * 0.01);
  expect(renames).toBeGreaterThan(numRuns * scale * 0.01);
  return { statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)), stored, streams, renames };
}

describe('hostile input, in process', () => {
  const data = tempDir('threadchat-fuzz-');
  const opened: FuzzApp[] = [];
  afterAll(async () => {
    for (const target of opened) await target.close();
    data.remove();
  });

  it('answers 4,000 random requests on the memory store without a 5xx, storing only valid messages', async () => {
    const target = createFuzzApp(createMemoryStore());
    opened.push(target);
    const result = await runProperty(target, 4000);
    console.log('memory store:', JSON.stringify(result));
  }, TIMEOUT);

  it('answers 1,000 random requests on the SQLite store the same way', async () => {
    const target = createFuzzApp(createSqliteStore({ dir: data.path, sync: 'normal' }));
    opened.push(target);
    const result = await runProperty(target, 1000);
    console.log('sqlite store:', JSON.stringify(result));
  }, TIMEOUT);

  it('with --token set, answers 500 random requests the same way and stores nothing without the token', async () => {
    const target = createFuzzApp(createMemoryStore(), { CHAT_TOKEN: 'a secret for the fuzz' }, 'many');
    opened.push(target);
    const carriesToken = (h: RequestSpec['headers']) =>
      // No cookie can sign in here: a session id is random, made at a sign-in the fuzz never does.
      /^bearer /i.test(h.authorization?.trim() ?? '') && h.authorization!.trim().slice(7).trim() === 'a secret for the fuzz';
    await fc.assert(
      fc.asyncProperty(request, async (spec) => {
        const before = target.appended.length;
        await checkRequest(target, spec, { oracle: false }); // the oracle knows nothing of tokens
        if (target.appended.length > before) expect(carriesToken(spec.headers), 'stored a message without the token').toBe(true);
      }),
      { numRuns: Math.round(500 * scale), ...seed },
    );
    await checkStore(target);
  }, TIMEOUT);

  it('answers HEAD /rooms/:room/events with headers and opens no stream', async () => {
    const target = createFuzzApp(createMemoryStore());
    opened.push(target);
    const res = await target.app.fetch(new Request('http://localhost/rooms/main/events', { method: 'HEAD' }));
    expect(res.status).toBe(200);
    expect(target.hub.stats().streams).toBe(0);
  });

  it("posts a raw text with a bare % as it is (`curl -d '100% sure'`), and still refuses a malformed form", async () => {
    const target = createFuzzApp(createMemoryStore());
    opened.push(target);
    const send = (body: string) => target.app.fetch(new Request('http://localhost/rooms/main/messages?name=alice', {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body,
    }));
    expect((await send('100% sure')).status).toBe(201);
    expect((await send('50%off & 20%e0 more')).status).toBe(201);
    expect((await send('text=%E0%A4%A')).status).toBe(400);
    expect(target.appended.map((m) => m.text)).toEqual(['100% sure', '50%off & 20%e0 more']);
  });
});

describe('hostile input, over real HTTP, with the default limits', () => {
  it('answers 1,500 random requests to a real server without a 5xx; what it acknowledged is what it holds', async () => {
    const server = await startServer(['--store', 'memory']); // every limit at its default, as users meet it
    try {
      const statuses = new Map<number, number>();
      const accepted = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(request, async (spec) => {
          const { status, storedIn } = await checkOverHttp(server.url, spec);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (storedIn) accepted.set(storedIn, (accepted.get(storedIn) ?? 0) + 1);
        }),
        { numRuns: Math.round(1500 * scale), ...seed },
      );
      console.log('over HTTP:', JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b))));
      expect(statuses.get(201) ?? 0).toBeGreaterThan(0); // the generators reach the store...
      expect(statuses.get(429) ?? 0).toBeGreaterThan(0); // ...and the limits, which are on
      for (const [room, count] of accepted) {
        const held = (await (await fetch(`${server.url}/rooms/${room}/messages?limit=1000`)).json()).messages;
        expect(held.length, `room ${room}`).toBe(count);
        for (const m of held) expect(invalidMessage(m), `stored in ${room}: ${JSON.stringify(m)}`).toBeNull();
      }
      await waitFor(async () => (await health(server.url)).streams === 0, 'every stream the fuzz opened to end');
    } finally {
      await server.stop();
    }
  }, TIMEOUT);
});
