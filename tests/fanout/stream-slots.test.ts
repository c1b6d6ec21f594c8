import { afterEach, describe, expect, it } from 'bun:test';
import { createStreamSlots } from '../../fanout/stream-slots.ts';
import { HubFullError, type OpenRequest } from '../../fanout/hub-api.ts';
import { createRoomWords } from '../../fanout/shm/room-words.ts';
import { createNumbering } from '../../fanout/shm/numbering.ts';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

function setup(limits: { maxStreams: number; maxStreamsPerIp?: number; maxConnecting?: number }) {
  const rooms = createRoomWords(limits.maxStreams, 'atomics');
  const clients = createNumbering();
  closers.push(rooms.close);
  return { rooms, clients, slots: createStreamSlots<string>(limits, rooms, clients) };
}

const request = (over: Partial<OpenRequest> = {}): OpenRequest => ({
  room: 'main', client: null, name: null, format: 'json', lastEventId: null, history: 10, retryMs: 1000, heartbeatMs: 1000,
  slowMs: 1000, fault: null, peer: 'test', address: '10.0.0.1', ...over,
});

const refusal = (reserve: () => unknown) => {
  try {
    reserve();
  } catch (error) {
    return error instanceof HubFullError ? { message: error.message, retryAfter: error.retryAfter } : error;
  }
  return null;
};

describe('stream slots', () => {
  it('gives a stream its room word and client number, and release() gives back all it took, once', () => {
    const { slots, rooms, clients } = setup({ maxStreams: 4 });
    const a = slots.reserve(request({ client: 'c1' }));
    const b = slots.reserve(request({ client: 'c1', address: '10.0.0.2' }));
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(b.roomWord).toBe(a.roomWord);
    expect(a.roomWord).toBe(rooms.wordOf('main'));
    expect(b.clientNo).toBe(a.clientNo);
    expect(a.clientNo).toBe(clients.of('c1'));
    a.fill('a');
    b.fill('b');
    expect(slots.occupants).toEqual(['a', 'b']);
    a.release();
    a.release(); // a second end of the same stream gives nothing back twice
    expect(slots.occupants).toEqual([undefined, 'b']);
    expect(slots.stats()).toEqual({ open: 1, connecting: 0 });
    expect(rooms.wordOf('main')).toBe(b.roomWord); // still held by b
    b.release();
    expect(slots.stats().open).toBe(0);
    expect(rooms.wordOf('main')).toBe(-1);
    expect(clients.of('c1')).toBe(-1);
    expect(slots.reserve(request()).index).toBe(1); // slots are reused, so the ready bits stay few
  });

  it('refuses past maxStreams and maxStreamsPerIp, and takes nothing when it does', () => {
    const { slots, rooms } = setup({ maxStreams: 2, maxStreamsPerIp: 1 });
    slots.reserve(request());
    expect(refusal(() => slots.reserve(request({ room: 'other' })))).toEqual({ message: 'your address has 1 streams open, the most allowed', retryAfter: 5 });
    const second = slots.reserve(request({ address: '10.0.0.2' }));
    expect(refusal(() => slots.reserve(request({ room: 'other', address: '10.0.0.3' })))).toEqual({ message: '2 streams are open, the most this server allows', retryAfter: 5 });
    expect(rooms.wordOf('other')).toBe(-1);
    second.release();
    expect(refusal(() => slots.reserve(request({ address: '10.0.0.2' })))).toBeNull();
  });

  it('counts a stream as connecting from connecting() until its first bytes or its end, and refuses past maxConnecting', () => {
    const { slots } = setup({ maxStreams: 8, maxConnecting: 2 });
    const a = slots.reserve(request());
    const b = slots.reserve(request());
    expect(slots.stats().connecting).toBe(0); // a history query does not count: only a Worker starting does
    a.connecting();
    b.connecting();
    expect(refusal(() => slots.reserve(request()))).toEqual({ message: '2 streams are waiting for their thread to start', retryAfter: 1 });
    a.started();
    a.started();
    expect(slots.stats().connecting).toBe(1);
    b.release();
    expect(slots.stats()).toEqual({ open: 1, connecting: 0 });
    expect(refusal(() => slots.reserve(request()))).toBeNull();
  });
});
