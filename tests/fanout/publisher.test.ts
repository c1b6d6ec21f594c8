import { afterEach, describe, expect, it } from 'bun:test';
import type { ChatMessage, Presence } from '../../lib/chat-types.ts';
import { createPublisher } from '../../fanout/publisher.ts';
import { NO_FANOUT_METRICS } from '../../fanout/metrics.ts';
import { createLogReader, createLogWriter } from '../../fanout/shm/shared-log.ts';
import { createRoomWords } from '../../fanout/shm/room-words.ts';
import { FORMATS, KIND_MESSAGE, KIND_PRESENCE, KIND_TYPING, META_CLIENT, META_KIND } from '../../fanout/shm/entry.ts';
import { LOG_INDEX_META, ROOM_SEQ } from '../../fanout/shm/protocol.ts';
import { messageFrame, presenceFrame, typingFrame } from '../../views/frames.ts';
import { waitFor } from '../helpers.ts';
import { readEntry } from './shm/read-entry.ts';

const WINDOW_MS = 30;
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A publisher over a real log and real room words; `members` answers what the test sets in `here`. */
function setup() {
  const log = createLogWriter({ indexSlots: 64, dataBytes: 1 << 16 });
  const reader = createLogReader(log.buffer, log.sizes);
  const rooms = createRoomWords(4, 'atomics');
  const appended: [number, number][] = [];
  const here = new Map<string, Omit<Presence, 'change'>>();
  const publisher = createPublisher({
    log,
    rooms,
    clientNo: (client) => (client === 'poster' ? 7 : -1),
    metrics: NO_FANOUT_METRICS,
    appended: (word, seq) => appended.push([word, seq]),
    presenceEveryMs: WINDOW_MS,
    typingEveryMs: WINDOW_MS,
    members: (room) => ({ room, members: [], count: 0, change: null, ...here.get(room) }),
  });
  closers.push(publisher.close, rooms.close);
  const text = (seq: number) => new TextDecoder().decode(readEntry(reader, seq)!);
  const meta = (seq: number, field: number) => reader.index[reader.slot(seq) + LOG_INDEX_META + field];
  return { log, reader, rooms, publisher, appended, here, text, meta };
}

const message = (over: Partial<ChatMessage> = {}): ChatMessage => ({ id: '1000', room: 'main', name: 'ann', text: 'hi\nthere', ts: 0, client: null, ...over });

describe('publisher', () => {
  it('writes a message into the log once, in every format, with its room word and its sender number', () => {
    const { rooms, publisher, appended, text, meta, reader } = setup();
    const word = rooms.acquire('main');
    const m = message({ client: 'poster' });
    publisher.message(m);
    expect(text(0)).toBe(FORMATS.map((f) => messageFrame(m, f)).join(''));
    expect(text(0).startsWith('id: 1000\ndata: {"id":"1000","room":"main","name":"ann","text":"hi\\nthere","ts":0}\n\n')).toBe(true);
    expect(meta(0, META_KIND)).toBe(KIND_MESSAGE);
    expect(meta(0, META_CLIENT)).toBe(7);
    expect(reader.roomWord(0)).toBe(word);
    expect(appended).toEqual([[word, 0]]);
    expect(Atomics.load(new Int32Array(rooms.buffer), word + ROOM_SEQ)).toBe(1); // the room's Workers are told
  });

  it('logs an event of a room no stream follows with no room word', () => {
    const { publisher, appended, reader, rooms } = setup();
    publisher.message(message({ room: 'nobody-here' }));
    expect(reader.roomWord(0)).toBe(-1);
    expect(appended).toEqual([[-1, 0]]);
    expect(new Int32Array(rooms.buffer).every((int) => int === 0)).toBe(true); // no room word is touched
  });

  it("coalesces a room's presence changes into one event per window, with the members of when it goes out", async () => {
    const { log, publisher, here, text, meta } = setup();
    publisher.presence('main', { kind: 'join', name: 'ann' });
    publisher.presence('main', null);
    publisher.presence('main', { kind: 'join', name: 'bo' });
    publisher.presence('other', { kind: 'leave', name: 'cy' });
    here.set('main', { room: 'main', members: ['ann', 'bo'], count: 3 }); // after the changes: read when the event goes out
    expect(log.seq).toBe(0); // nothing before the window ends
    await waitFor(() => log.seq >= 2, 'the first window');
    // A change after the window opens a new one, with only its own changes. Once its event is out, every event
    // of the first window is out too.
    publisher.presence('main', { kind: 'leave', name: 'ann' });
    await waitFor(() => log.seq >= 3, 'the second window');

    const main: Presence = { room: 'main', members: ['ann', 'bo'], count: 3, change: { kind: 'join', name: 'bo' }, changes: [{ kind: 'join', name: 'ann' }, { kind: 'join', name: 'bo' }] };
    const other: Presence = { room: 'other', members: [], count: 0, change: { kind: 'leave', name: 'cy' }, changes: [{ kind: 'leave', name: 'cy' }] };
    const late: Presence = { ...main, change: { kind: 'leave', name: 'ann' }, changes: [{ kind: 'leave', name: 'ann' }] };
    const rendered = (p: Presence) => FORMATS.map((f) => presenceFrame(p, f)).join('');
    expect([text(0), text(1), text(2)]).toEqual([rendered(main), rendered(other), rendered(late)]);
    expect(log.seq).toBe(3);
    expect(text(0).startsWith(`event: presence\ndata: ${JSON.stringify(main)}\n\n`)).toBe(true);
    expect(meta(0, META_KIND)).toBe(KIND_PRESENCE);
    expect(meta(0, META_CLIENT)).toBe(-1);
  });

  it("coalesces a room's typing notices per window: one entry per typist, with the typist's number, no text frame", async () => {
    const { log, rooms, publisher, text, meta } = setup();
    rooms.acquire('main');
    publisher.typing('main', 'poster', 'ann');
    publisher.typing('main', 'other', 'bo');
    publisher.typing('main', 'poster', 'ann'); // the same typist again in the window: still one entry
    publisher.typing('nobody-here', 'x', 'cy'); // no stream follows that room: nothing to tell
    expect(log.seq).toBe(0);
    await waitFor(() => log.seq >= 2, 'the window');
    const rendered = (name: string) => FORMATS.map((f) => typingFrame({ room: 'main', name }, f)).join('');
    expect([text(0), text(1)]).toEqual([rendered('ann'), rendered('bo')]);
    // json, html; text and raw carry none; ndjson a line of its own
    expect(text(0)).toBe('event: typing\ndata: {"room":"main","name":"ann"}\n\n'.repeat(2) + '{"event":"typing","room":"main","name":"ann"}\n');
    expect([meta(0, META_KIND), meta(0, META_CLIENT), meta(1, META_CLIENT)]).toEqual([KIND_TYPING, 7, -1]);
    publisher.typing('main', 'poster', 'ann');
    await waitFor(() => log.seq >= 3, 'the next window');
    expect(log.seq).toBe(3); // the room with no stream never got an entry
  });
});
