/**
 * Typing notices over real HTTP/SSE: the room's other streams get `typing`, the typist's own streams and text
 * streams never do, notices are coalesced per room, never stored, limited per client, and bad ones refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { health, openStream, post, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';

const typing = (base: string, room: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${room}/typing`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

const typings = (s: Stream) => s.events.filter((e) => e.event === 'typing').map((e) => JSON.parse(e.data) as { room: string; name: string });

describe('typing notices', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("reaches the room's other streams, coalesced, and never the typist's own streams or a text stream", async () => {
    const room = 'typing';
    const url = `${server.url}/rooms/${room}/events`;
    const alice = await openStream(`${url}?client=alice-tab&name=alice`);
    const aliceAgain = await openStream(`${url}?client=alice-tab&name=alice`); // a second stream of the same client
    const bob = await openStream(`${url}?client=bob-tab&name=bob`);
    const terminal = await openStream(`${url}?client=carol-term&name=carol&format=text`);
    await waitFor(async () => (await health(server.url)).streams >= 4, 'four streams');
    // Three notices at once (the burst): one window, so bob gets one event for alice.
    for (let i = 0; i < 3; i++) expect((await typing(server.url, room, { name: 'alice' }, { 'X-Client-Id': 'alice-tab' })).status).toBe(204);
    const seen = await bob.next((e) => e.event === 'typing', 'alice typing, at bob');
    expect(JSON.parse(seen.data)).toEqual({ room, name: 'alice' });
    // A message from bob goes into the log after the notice: once a stream has it, it has had the notice too.
    const marker = await post(server.url, room, { name: 'bob', text: 'after the notice' }, { 'X-Client-Id': 'bob-tab' });
    for (const s of [alice, aliceAgain, terminal]) await s.next((e) => e.id === marker.id, 'the marker');
    expect(typings(alice)).toEqual([]);
    expect(typings(aliceAgain)).toEqual([]);
    expect(terminal.events.filter((e) => e.event === 'typing' || e.data.includes('typing'))).toEqual([]);
    expect(typings(bob)).toEqual([{ room, name: 'alice' }]); // coalesced: three notices, one event
    // Never stored: the room's history holds the marker only.
    const history = await (await fetch(`${server.url}/rooms/${room}/messages`)).json();
    expect(history.messages.map((m: { text: string }) => m.text)).toEqual(['after the notice']);
    for (const s of [alice, aliceAgain, bob, terminal]) s.close();
  });

  it('limits notices per client with a 429 and Retry-After, apart from the message limit', async () => {
    const answers: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 6; i++) {
      last = await typing(server.url, 'limits', { name: 'eve' }, { 'X-Client-Id': 'eve-tab' });
      answers.push(last.status);
    }
    // The burst is 3; at 1 per second, at most one more can have refilled during the loop.
    expect(answers.filter((s) => s === 204).length).toBeGreaterThanOrEqual(3);
    expect(answers.filter((s) => s === 204).length).toBeLessThanOrEqual(4);
    expect(answers.at(-1)).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await last!.json()).error).toContain('too many typing notices');
    // Its messages still go through: typing spends its own bucket.
    await post(server.url, 'limits', { name: 'eve', text: 'still allowed' }, { 'X-Client-Id': 'eve-tab' });
  });

  it('refuses a notice without a client id or with a bad name, saying why', async () => {
    const noClient = await typing(server.url, 'bad', { name: 'zed' });
    expect(noClient.status).toBe(400);
    expect((await noClient.json()).error).toContain('client id');
    const badName = await typing(server.url, 'bad', { name: '' }, { 'X-Client-Id': 'zed-tab' });
    expect(badName.status).toBe(422);
    const badRoom = await typing(server.url, 'Not A Room', { name: 'zed' }, { 'X-Client-Id': 'zed-tab' });
    expect(badRoom.status).toBe(400);
  });
});
