import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { compareIds } from '../../store/types.ts';
import { health, openStream, post, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, startPrivateRedis, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';

const members = async (base: string, room: string) =>
  (await (await fetch(`${base}/rooms/${room}/members`)).json()) as { members: string[]; count: number };
const history = async (base: string, room: string) =>
  ((await (await fetch(`${base}/rooms/${room}/messages?limit=1000`)).json()) as { messages: { id: string }[] }).messages.map((m) => m.id);
const hasAll = (stream: Stream, ids: string[]) => {
  const got = new Set(stream.messages().map((m) => m.id));
  return ids.every((id) => got.has(id));
};
/** The first presence event on `stream` that passes `check`. */
type Change = { kind: string; name: string };
/** The documented `changes` of a presence event: every change since the last one (several may be coalesced). */
const has = (p: { changes: Change[] }, kind: string, name: string) => p.changes.some((c) => c.kind === kind && c.name === name);
const presence = (stream: Stream, check: (p: { members: string[]; changes: Change[] }) => boolean, what: string, ms?: number) =>
  stream.next((e) => e.event === 'presence' && check(JSON.parse(e.data)), what, ms);

describe('several instances on one Redis', () => {
  const prefix = uniquePrefix('e2e');
  // Presence of a dead instance expires after 1.5 s here (15 s by default).
  const url = storeUrl(SHARED_REDIS, DB.e2e, prefix, { presenceTtl: '1500' });
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(['--store', url, '--post-rate', '0']), startServer(['--store', url, '--post-rate', '0'])]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
  });

  it('delivers every message posted to either instance to clients on both, in one order with the same ids', async () => {
    const room = 'shared';
    const onA = await openStream(`${a.url}/rooms/${room}/events?client=reader-a`);
    const onB = await openStream(`${b.url}/rooms/${room}/events?client=reader-b`);
    await Promise.all([presence(onA, () => true, 'the stream on A'), presence(onB, () => true, 'the stream on B')]);
    // Two posters at once, one per instance: Redis orders the appends, every client must see that one order.
    const [viaA, viaB] = await Promise.all(
      (
        [
          [a, 'poster-a'],
          [b, 'poster-b'],
        ] as const
      ).map(async ([server, client]) => {
        const ids: string[] = [];
        for (let i = 0; i < 25; i++) ids.push((await post(server.url, room, { name: client, text: `${client} ${i}` }, { 'X-Client-Id': client })).id);
        return ids;
      }),
    );
    const acked = [...viaA!, ...viaB!];
    await waitFor(() => hasAll(onA, acked) && hasAll(onB, acked), 'every message on both instances');
    const idsA = onA.messages().map((m) => m.id);
    const idsB = onB.messages().map((m) => m.id);
    expect(idsA).toEqual(idsB);
    expect(idsA.length).toBe(50);
    expect(new Set(idsA)).toEqual(new Set(acked));
    for (let i = 1; i < idsA.length; i++) expect(compareIds(idsA[i]!, idsA[i - 1]!)).toBeGreaterThan(0);
    expect(idsA.filter((id) => viaA!.includes(id))).toEqual(viaA!);
    expect(await history(a.url, room)).toEqual(idsA);
    expect(await history(b.url, room)).toEqual(idsA);
    onA.close();
    onB.close();
  });

  it('lets a client move from A to B with its Last-Event-ID, missing nothing and getting nothing twice', async () => {
    const room = 'move';
    const first = await openStream(`${a.url}/rooms/${room}/events?client=mover`);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await post(a.url, room, { text: `seen-${i}` })).id);
    await first.next((e) => e.id === seen.at(-1), 'the last message before moving');
    const lastEventId = first.events.filter((e) => e.id).at(-1)!.id!;
    first.close();
    const missed: string[] = [];
    for (let i = 0; i < 6; i++) missed.push((await post(i % 2 ? b.url : a.url, room, { text: `missed-${i}` })).id);
    const again = await openStream(`${b.url}/rooms/${room}/events?client=mover`, { 'Last-Event-ID': lastEventId });
    const live = await post(a.url, room, { text: 'live' });
    await again.next((e) => e.id === live.id, 'the live message on B');
    expect(lastEventId).toBe(seen.at(-1)!);
    expect(again.messages().map((m) => m.id)).toEqual([...missed, live.id]);
    expect(again.events.some((e) => e.event === 'reset')).toBe(false);
    again.close();
  });

  it('shows on A a member connected to B, and their leaving', async () => {
    const room = 'who';
    const watcher = await openStream(`${a.url}/rooms/${room}/events?name=walt`);
    await presence(watcher, (p) => p.members.includes('walt'), 'walt on A');
    const bob = await openStream(`${b.url}/rooms/${room}/events?name=bob`);
    const joined = await presence(watcher, (p) => p.members.includes('bob'), 'bob (on B) in a presence event on A');
    expect(JSON.parse(joined.data).changes).toContainEqual({ kind: 'join', name: 'bob' });
    expect(await members(a.url, room)).toEqual({ room, members: ['bob', 'walt'], count: 2, watching: 0 } as never);
    await waitFor(async () => (await members(b.url, room)).count === 2, 'both members listed on B');
    expect(await members(b.url, room)).toEqual({ room, members: ['bob', 'walt'], count: 2, watching: 0 } as never);
    bob.close();
    const left = await presence(watcher, (p) => has(p, 'leave', 'bob'), 'bob leaving, seen on A');
    expect(JSON.parse(left.data).members).toEqual(['walt']);
    expect((await members(a.url, room)).members).toEqual(['walt']);
    watcher.close();
  });

  it('reports every one of several joins on B at once in the changes on A, none lost to coalescing', async () => {
    const room = 'crowd';
    const watcher = await openStream(`${a.url}/rooms/${room}/events?name=wendy`);
    await presence(watcher, (p) => p.members.includes('wendy'), 'wendy on A');
    const names = ['ann', 'ben', 'cat', 'dan', 'eve'];
    const crowd = await Promise.all(names.map((n) => openStream(`${b.url}/rooms/${room}/events?name=${n}`)));
    await presence(watcher, (p) => names.every((n) => p.members.includes(n)), 'the five (on B) in a presence event on A');
    const events = watcher.events.filter((e) => e.event === 'presence').map((e) => JSON.parse(e.data) as { changes: Change[] });
    for (const n of names) expect(events.some((p) => has(p, 'join', n)), `the join of ${n} on A`).toBe(true);
    // Five joins within one coalescing window come as fewer events than joins: the changes carry them all.
    console.log(`redis: 5 joins reached A in ${events.filter((p) => p.changes.some((c) => names.includes(c.name))).length} presence event(s)`);
    crowd.forEach((s) => s.close());
    watcher.close();
  });

  it('renames on B the streams of a client there when the rename is made on A, and says so on both', async () => {
    const room = 'rename';
    const watcher = await openStream(`${a.url}/rooms/${room}/events?name=wanda`);
    const ren = await openStream(`${b.url}/rooms/${room}/events?name=ren&client=ren-1`);
    await presence(watcher, (p) => p.members.includes('ren'), 'ren (on B) listed on A');
    const put = await fetch(`${a.url}/rooms/${room}/members/ren-1`, { method: 'PUT', body: 'renata' });
    expect(put.status).toBe(200);
    // The client's own stream, on B, takes the name; the room sees one rename, not a leave and a join.
    const own = await presence(ren, (p) => has(p, 'rename', 'renata'), "the rename on ren's own stream on B");
    expect(JSON.parse(own.data).changes).toContainEqual({ kind: 'rename', name: 'renata', from: 'ren' });
    expect(JSON.parse(own.data).members).toEqual(['renata', 'wanda']);
    const seen = await presence(watcher, (p) => has(p, 'rename', 'renata'), 'the rename seen on A');
    expect(JSON.parse(seen.data).members).toEqual(['renata', 'wanda']);
    expect([...watcher.events, ...ren.events].some((e) => e.event === 'presence' && has(JSON.parse(e.data), 'leave', 'ren'))).toBe(false);
    await waitFor(async () => (await members(b.url, room)).members.includes('renata'), 'renata listed on B');
    expect((await members(b.url, room)).members).toEqual(['renata', 'wanda']);
    // A client with no stream on either instance is still a 404.
    expect((await fetch(`${a.url}/rooms/${room}/members/nobody-1`, { method: 'PUT', body: 'x' })).status).toBe(404);
    ren.close();
    watcher.close();
  });

  it("tells A's streams who types on B, and never the typist's own streams on either", async () => {
    const room = 'typing';
    const bob = await openStream(`${a.url}/rooms/${room}/events?name=bob&client=bob-1`);
    const aliceOnA = await openStream(`${a.url}/rooms/${room}/events?name=alice&client=alice-1`);
    const aliceOnB = await openStream(`${b.url}/rooms/${room}/events?name=alice&client=alice-1`);
    await presence(bob, (p) => p.members.includes('alice'), 'alice listed on A');
    await waitFor(async () => (await members(b.url, room)).members.includes('bob'), 'bob (on A) listed on B');
    const typed = await fetch(`${b.url}/rooms/${room}/typing`, { method: 'POST', headers: { 'X-Client-Id': 'alice-1' }, body: 'alice' });
    expect(typed.status).toBe(204);
    const seen = await bob.next((e) => e.event === 'typing', 'alice typing on B, seen on A');
    expect(JSON.parse(seen.data)).toEqual({ room, name: 'alice' });
    // The notice went out before this message on both instances: a stream that has the message had its chance.
    const marker = await post(b.url, room, { name: 'bob', text: 'after typing' }, { 'X-Client-Id': 'bob-1' });
    for (const s of [aliceOnA, aliceOnB]) await s.next((e) => e.id === marker.id, 'the marker');
    expect([...aliceOnA.events, ...aliceOnB.events].filter((e) => e.event === 'typing')).toEqual([]);
    for (const s of [bob, aliceOnA, aliceOnB]) s.close();
  });

  it('drops the members of an instance that died once its presence expires', async () => {
    const room = 'crash';
    const c = await startServer(['--store', url]);
    const carol = await openStream(`${c.url}/rooms/${room}/events?name=carol`);
    await waitFor(async () => (await members(a.url, room)).members.includes('carol'), 'carol (on C) listed on A');
    await c.kill9(); // no goodbye: only the expiry of its share can remove carol
    carol.close();
    await waitFor(async () => (await members(a.url, room)).count === 0, 'carol gone from A after the expiry', 10_000);
  });

  it('withdraws the members of an instance that shuts down, and exits 0', async () => {
    const room = 'bye';
    const watcher = await openStream(`${a.url}/rooms/${room}/events?name=wendy`);
    const dave = await openStream(`${b.url}/rooms/${room}/events?name=dave`);
    await presence(watcher, (p) => p.members.includes('dave'), 'dave (on B) listed on A');
    expect(await b.stop()).toBe(0);
    const left = await presence(watcher, (p) => has(p, 'leave', 'dave'), 'dave leaving with B');
    expect(JSON.parse(left.data).members).toEqual(['wendy']);
    dave.close();
    watcher.close();
  });
});

describe('when Redis goes away', () => {
  it('answers POST with 503 while it is down, keeps streams open, and loses nothing acknowledged', async () => {
    const redis = await startPrivateRedis();
    const url = storeUrl(redis.url, 0, 'outage:');
    const servers = await Promise.all([startServer(['--store', url, '--log', 'json']), startServer(['--store', url, '--log', 'json'])]);
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const room = 'outage';
    try {
      const onA = await openStream(`${a.url}/rooms/${room}/events?client=reader-a`);
      const onB = await openStream(`${b.url}/rooms/${room}/events?client=reader-b`);
      const acked = [(await post(a.url, room, { text: 'before-a' })).id, (await post(b.url, room, { text: 'before-b' })).id];
      await waitFor(() => hasAll(onA, acked) && hasAll(onB, acked), 'the first messages on both streams');

      await redis.kill();
      for (const server of [a, b, a, b]) {
        const res = await fetch(`${server.url}/rooms/${room}/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ text: 'while down' }),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
      }
      expect((await health(a.url)).streams).toBe(1); // the streams stay open through the outage
      expect((await health(b.url)).streams).toBe(1);

      await redis.start();
      const retry = (server: ServerProcess, text: string) => waitFor(() => post(server.url, room, { text }).catch(() => null), `${text} accepted`, 15_000);
      acked.push((await retry(b, 'back-b')).id, (await retry(a, 'back-a')).id);
      for (let i = 0; i < 6; i++) acked.push((await post(i % 2 ? b.url : a.url, room, { text: `after-${i}` })).id);
      await waitFor(() => hasAll(onA, acked) && hasAll(onB, acked), 'every acknowledged message on both streams');
      // The same two streams, never ended: every acknowledged message once, in order, and none of the 503s.
      expect(onA.messages().map((m) => m.id)).toEqual(acked);
      expect(onB.messages().map((m) => m.id)).toEqual(acked);
      expect([...onA.events, ...onB.events].some((e) => e.event === 'bye')).toBe(false);
      expect(await history(a.url, room)).toEqual(acked);
      for (const server of servers) expect(server.output().match(/Redis unavailable/g)).toHaveLength(1);
      onA.close();
      onB.close();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await redis.remove();
    }
  }, 60_000);
});
