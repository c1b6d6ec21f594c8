import { describe, expect, it } from 'bun:test';
import { createLogReader, createLogWriter } from '../../../fanout/shm/shared-log.ts';
import { createRoomWords } from '../../../fanout/shm/room-words.ts';
import { preferredWaitKind } from '../../../runtime/wait-word.ts';
import { createOutRingBuffer, createRingReader, createRingWriter } from '../../../fanout/shm/out-ring.ts';
import { readEntry } from './read-entry.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

describe('shared log', () => {
  it('lets a reader read every entry in order, across wrap-around', () => {
    const writer = createLogWriter({ indexSlots: 8, dataBytes: 64 });
    const reader = createLogReader(writer.buffer, writer.sizes);
    for (let i = 0; i < 100; i++) {
      const seq = writer.append(bytes(`entry-${i}`));
      expect(seq).toBe(i);
      expect(text(readEntry(reader, seq))).toBe(`entry-${i}`);
    }
    expect(reader.seq).toBe(100);
  });

  it('tells a reader that fell behind that its entries are gone, never hands it torn bytes', () => {
    const writer = createLogWriter({ indexSlots: 8, dataBytes: 64 });
    const reader = createLogReader(writer.buffer, writer.sizes);
    for (let i = 0; i < 20; i++) writer.append(bytes(`e${String(i).padStart(3, '0')}`));
    expect(readEntry(reader, 0)).toBeNull();
    expect(readEntry(reader, 11)).toBeNull(); // index slot reused
    for (let seq = 12; seq < 20; seq++) expect(text(readEntry(reader, seq))).toBe(`e${String(seq).padStart(3, '0')}`);
  });

  it('retires the unused tail when an entry wraps to the start', () => {
    const writer = createLogWriter({ indexSlots: 64, dataBytes: 40 });
    const reader = createLogReader(writer.buffer, writer.sizes);
    writer.append(bytes('aaaaaaaa')); // 0..8
    writer.append(bytes('bbbbbbbb')); // 8..16
    writer.append(bytes('cccccccc')); // 16..24
    writer.append(bytes('dddddddd')); // 24..32
    writer.append(bytes('eeeeeeeee')); // does not fit at 32: wraps to 0, overwriting a and b
    expect(readEntry(reader, 0)).toBeNull();
    expect(readEntry(reader, 1)).toBeNull();
    expect(text(readEntry(reader, 2))).toBe('cccccccc');
    expect(text(readEntry(reader, 4))).toBe('eeeeeeeee');
  });

  for (const wait of ['futex', 'atomics'] as const) {
    it(`wakes a reader blocked on its room word in a Worker (${wait})`, async () => {
      if (wait === 'futex' && preferredWaitKind() !== 'futex') return; // no futex(2) here: the atomics case covers it
      // Room for all 50 entries: this test is about waking, not about falling behind.
      const writer = createLogWriter({ indexSlots: 64, dataBytes: 4096 });
      const rooms = createRoomWords(4, wait);
      const word = rooms.acquire('main');
      const worker = new Worker(new URL('./log-reader-worker.ts', import.meta.url).href);
      const got = new Promise<string[]>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
      worker.postMessage({ buffer: writer.buffer, sizes: writer.sizes, count: 50, rooms: rooms.buffer, wait });
      const started = performance.now();
      for (let i = 0; i < 50; i++) {
        rooms.signal(word, writer.append(bytes(`m${i}`), word));
        if (i % 7 === 0) await Bun.sleep(1);
      }
      expect(await got).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      // Woken by the signals, not by its 1 s timed wait (seven pauses would add up to seconds).
      expect(performance.now() - started).toBeLessThan(900);
      worker.terminate();
    });
  }
});

describe('output ring', () => {
  it('carries frames across wrap-around and refuses what does not fit', () => {
    const buffer = createOutRingBuffer(32);
    const writer = createRingWriter(buffer);
    const reader = createRingReader(buffer);
    let received = '';
    let sent = '';
    for (let i = 0; i < 50; i++) {
      const frame = `f${i};`;
      expect(writer.write(bytes(frame))).toBe(true);
      sent += frame;
      if (i % 3 === 0) received += text(reader.drain()) ?? '';
    }
    received += text(reader.drain()) ?? '';
    expect(received).toBe(sent);
    expect(writer.write(bytes('x'.repeat(33)))).toBe(false);
    expect(writer.write(bytes('x'.repeat(32)))).toBe(true);
    expect(writer.write(bytes('y'))).toBe(false);
    expect(text(reader.drain())).toBe('x'.repeat(32));
  });

  it('wakes a writer that found the ring full at a drain that came before it began to wait', async () => {
    const buffer = createOutRingBuffer(16);
    const writer = createRingWriter(buffer);
    const reader = createRingReader(buffer);
    expect(writer.write(new Uint8Array(16))).toBe(true);
    const drained = writer.drained();
    expect(writer.stage(new Uint8Array(8))).toBe(false); // full
    expect(reader.drain()!.length).toBe(16); // the drain lands before the writer waits: its notify finds no waiter
    const woke = await Promise.race([writer.waitForSpace(drained, 30_000).then(() => 'woke'), Bun.sleep(5000).then(() => 'slept')]);
    expect(woke).toBe('woke');
    expect(writer.stage(new Uint8Array(8))).toBe(true);
  });

  it('keeps position arithmetic right past 2^32 bytes', () => {
    const buffer = createOutRingBuffer(16);
    const header = new Int32Array(buffer, 0, 4);
    header[0] = -8; // 2^32 - 8 as a uint32: eight bytes before the wrap of the counters
    header[1] = -8;
    const writer = createRingWriter(buffer);
    const reader = createRingReader(buffer);
    expect(writer.write(bytes('0123456789ab'))).toBe(true);
    expect(text(reader.drain())).toBe('0123456789ab');
    expect(writer.free()).toBe(16);
  });
});

describe('a Worker dying mid-write', () => {
  it('leaves no partial frame: bytes copied but not published are never drained', async () => {
    const buffer = createOutRingBuffer(64);
    const reader = createRingReader(buffer);
    // A real Worker stages half its frames, then is terminated before it can publish the rest.
    const worker = new Worker(new URL('./ring-writer-worker.ts', import.meta.url).href);
    const staged = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
    worker.postMessage(buffer);
    await staged;
    worker.terminate();
    expect(text(reader.drain())).toBe('whole;');
    // The next Worker on this ring starts at the published position and overwrites the unpublished bytes.
    const next = createRingWriter(buffer);
    expect(next.write(bytes('next;'))).toBe(true);
    expect(text(reader.drain())).toBe('next;');
  });
});
