/** The hub with its real Workers, over a memory store: what a stream's client reads, byte for byte. */
import { afterAll, describe, expect, it } from 'bun:test';
import { createHub } from '../../fanout/hub.ts';
import { HubFullError } from '../../fanout/hub-api.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { createLogger } from '../../lib/logger.ts';
import type { ChatMessage } from '../../lib/chat-types.ts';
import { byeFrame, messageFrame, resetFrame } from '../../views/frames.ts';
import { waitFor } from '../helpers.ts';
import { openRequest } from './open-request.ts';

const logger = createLogger('silent');
const RETRY = 'retry: 1000\n\n';

const request = openRequest;

/** Reads a stream as its client would; `frames()` is what it got, presence events left out (they come on their own clock). */
function read(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let done = false;
  void (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    done = true;
  })();
  const frames = () => text.split(/(?<=\n\n)/).filter((f) => !f.startsWith('event: presence\n')).join('');
  return { frames, all: () => text, done: () => done, cancel: () => reader.cancel() };
}

describe('hub', () => {
  const store = createMemoryStore({ retention: 5 });
  const hub = createHub({ store, logger, maxStreams: 8, replayPage: 2, pool: { minIdle: 2, maxIdle: 4 } });
  afterAll(() => hub.close());
  const say = (room: string, text: string, client: string | null = null) => store.append({ room, name: client ?? 'someone', text, client });
  const json = (...messages: ChatMessage[]) => messages.map((m) => messageFrame(m, 'json')).join('');

  it("replays the recent history, then follows the room, and never echoes the client's own live messages", async () => {
    const h1 = await say('follow', 'one', 'other');
    const h2 = await say('follow', 'two', 'me');
    const stream = read(await hub.open(request({ room: 'follow', client: 'me' })));
    await waitFor(() => stream.frames() === RETRY + json(h1, h2), 'the history');
    await say('follow', 'mine, live', 'me');
    const m4 = await say('follow', 'theirs, live', 'other');
    await waitFor(() => stream.frames().includes(json(m4)), 'the live message');
    expect(stream.frames()).toBe(RETRY + json(h1, h2, m4));
    await stream.cancel();
  });

  it("resumes after Last-Event-ID page by page, leaving out the client's own messages", async () => {
    const from = await say('resume', 'seen');
    const missed: ChatMessage[] = [];
    for (let i = 0; i < 2; i++) {
      missed.push(await say('resume', `missed ${i}`));
      await say('resume', `own ${i}`, 'me'); // the client has these: it sent them
    }
    // 4 messages after `from` (retention 5) in pages of 2 (replayPage): the Worker asks for each next page.
    const stream = read(await hub.open(request({ room: 'resume', client: 'me', lastEventId: from.id })));
    await waitFor(() => stream.frames() === RETRY + json(...missed), 'every missed message, in order');
    const live = await say('resume', 'live');
    await waitFor(() => stream.frames() === RETRY + json(...missed, live), 'the live one after the replay');
    await stream.cancel();
  });

  it('says so when the id is older than the history kept (gap) or not an id of this store (unknown)', async () => {
    const first = await say('reset', 'gone');
    const kept: ChatMessage[] = [];
    for (let i = 0; i < 5; i++) kept.push(await say('reset', `kept ${i}`)); // retention 5: `first` is dropped
    const gap = read(await hub.open(request({ room: 'reset', lastEventId: String(Number(first.id) - 1) })));
    await waitFor(() => gap.frames() === RETRY + resetFrame(String(Number(first.id) - 1), 'json', 'gap') + json(...kept), 'a gap reset');
    const unknown = read(await hub.open(request({ room: 'reset', lastEventId: '1', history: 2 })));
    await waitFor(() => unknown.frames() === RETRY + resetFrame('1', 'json', 'unknown') + json(...kept.slice(-2)), 'an unknown reset');
    await Promise.all([gap.cancel(), unknown.cancel()]);
  });

  it('tells who is here and renames a member in place, and the room hears of it', async () => {
    const stream = read(await hub.open(request({ room: 'names', client: 'c1', name: 'ann' })));
    expect(hub.members('names')).toMatchObject({ members: ['ann'], count: 1 });
    expect(hub.renameMember('names', 'c1', 'anna')).toBe(true);
    expect(hub.renameMember('names', 'c2', 'bo')).toBe(false);
    expect(hub.renameMember('names', null, 'bo')).toBe(false);
    expect(hub.members('names')).toMatchObject({ members: ['anna'], count: 1 });
    const presence = await waitFor(() => stream.all().match(/event: presence\ndata: (.*)\n\n/)?.[1], 'a presence event');
    expect(JSON.parse(presence)).toEqual({
      room: 'names', members: ['anna'], count: 1, watching: 0, change: { kind: 'rename', name: 'anna', from: 'ann' },
      changes: [{ kind: 'join', name: 'ann' }, { kind: 'rename', name: 'anna', from: 'ann' }],
    });
    await stream.cancel();
  });
});

describe('hub limits and ends', () => {
  const store = createMemoryStore();
  const hub = createHub({ store, logger, maxStreams: 1, replayPage: 10, pool: { minIdle: 1, maxIdle: 2 } });
  afterAll(() => hub.close());

  it('refuses a stream past maxStreams, and a cancelled stream gives its slot back', async () => {
    const first = read(await hub.open(request({})));
    await waitFor(() => first.frames() === RETRY, 'the first stream');
    expect(hub.stats()).toMatchObject({ streams: 1, connecting: 0 });
    const refused = await hub.open(request({})).catch((error) => error);
    expect(refused).toBeInstanceOf(HubFullError);
    expect(refused.message).toBe('1 streams are open, the most this server allows');
    await first.cancel();
    await waitFor(() => hub.stats().streams === 0, 'the slot back');
    const second = read(await hub.open(request({})));
    await waitFor(() => second.frames() === RETRY, 'a stream in the freed slot');
    await second.cancel();
    await waitFor(() => hub.stats().streams === 0, 'the slot back again');
  });

  it('drops a room without a final event, and ends the rest with bye on close', async () => {
    const dropped = read(await hub.open(request({ room: 'dropped' })));
    await waitFor(() => dropped.frames() === RETRY, 'the stream');
    hub.drop('dropped');
    await waitFor(() => dropped.done(), 'the dropped stream to end');
    expect(dropped.frames()).toBe(RETRY);
    expect(hub.stats().streams).toBe(0);

    const ended = read(await hub.open(request({ room: 'last' })));
    await waitFor(() => ended.frames() === RETRY, 'the stream');
    await hub.close();
    await waitFor(() => ended.done(), 'the stream to end');
    expect(ended.frames()).toBe(RETRY + byeFrame('shutdown', 'json'));
    expect((await hub.open(request({})).catch((error) => error)).message).toBe('the server is shutting down');
  });
});
