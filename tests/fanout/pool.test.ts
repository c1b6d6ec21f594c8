import { afterEach, describe, expect, it } from 'bun:test';
import { createWorkerPool, type Borrower, type LentWorker, type PoolOptions, type StreamMessage } from '../../fanout/pool.ts';
import { createLogWriter } from '../../fanout/shm/shared-log.ts';
import { createRoomWords } from '../../fanout/shm/room-words.ts';
import { createOutRingBuffer, createRingReader } from '../../fanout/shm/out-ring.ts';
import { controlInts, type StreamOptions } from '../../fanout/shm/protocol.ts';
import { waitFor } from '../helpers.ts';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A pool of real stream Workers over real shared memory, and a way to start a stream on one of them. */
function setup(sizes: Omit<PoolOptions, 'init'>) {
  const log = createLogWriter({ indexSlots: 64, dataBytes: 1 << 16 });
  const rooms = createRoomWords(4, 'atomics');
  const control = new SharedArrayBuffer(4 * controlInts(4));
  const pool = createWorkerPool({ init: { log: log.buffer, logSizes: log.sizes, rooms: rooms.buffer, control, wait: rooms.kind }, ...sizes });
  closers.push(pool.close, rooms.close);
  const roomWord = rooms.acquire('main');
  /** Opens a stream on `worker` whose first page is `history`; returns what the Worker writes to its ring, as text. */
  const open = (worker: LentWorker, history: string, fault: StreamOptions['fault'] = null) => {
    const out = createOutRingBuffer();
    const ring = createRingReader(out);
    const frames = new TextEncoder().encode(history);
    const options: StreamOptions = {
      slot: 0, room: 'main', roomWord, clientNo: -1, client: null, format: 'json', lastEventId: null, retryMs: 1000,
      heartbeatMs: 60_000, slowMs: 10_000, fault,
    };
    worker.post({ type: 'open', out, options, page: { frames, ends: [frames.length], lastId: null, more: false, fromSeq: log.seq, restart: false } });
    let text = '';
    return () => {
      for (let chunk = ring.drain(); chunk; chunk = ring.drain()) text += new TextDecoder().decode(chunk);
      return text;
    };
  };
  return { pool, open };
}

function borrower() {
  const messages: StreamMessage[] = [];
  const errors: Error[] = [];
  const b: Borrower = { message: (m) => messages.push(m), error: (e) => errors.push(e) };
  return { ...b, messages, errors };
}

const settled = (pool: ReturnType<typeof createWorkerPool>, idle: number) => () => {
  const s = pool.stats();
  return s.idle === idle && s.starting === 0 && s.returning === 0;
};

describe('worker pool', () => {
  it('lends a ready Worker for a stream and takes it back when it lets go, to serve the next stream', async () => {
    const { pool, open } = setup({ minIdle: 1, maxIdle: 4 });
    await waitFor(settled(pool, 1), 'one Worker ready');
    const first = borrower();
    const worker = pool.acquire(first);
    const written = open(worker, 'data: from history\n\n');
    await waitFor(() => written().includes('data: from history\n\n'), 'the stream written by the Worker');
    expect(written()).toBe('retry: 1000\n\ndata: from history\n\n');
    await waitFor(settled(pool, 1), 'the pool topped up behind the lent Worker');
    expect(pool.stats().threads).toBe(2);

    pool.recycle(worker);
    expect(pool.stats().returning).toBe(1);
    await waitFor(settled(pool, 2), 'the Worker back in the pool');
    expect(pool.stats().threads).toBe(2); // pooled, not terminated
    const second = borrower();
    expect(pool.acquire(second)).toBe(worker); // the last one back is the next one out
    const again = open(worker, 'data: second stream\n\n', 'throw');
    await waitFor(() => again().includes('data: second stream'), 'the second stream on the same Worker');
    await waitFor(() => second.errors[0], "the second stream's error, to its own borrower");
    expect(first.errors).toEqual([]);
    expect(first.messages).toEqual([]); // the pool's own messages (ready, released) reach no borrower
    expect(second.messages).toEqual([]);
  });

  it("lends a Worker that is still starting when none is ready; its messages wait for it, its `ready` stays the pool's", async () => {
    const { pool, open } = setup({ minIdle: 1, maxIdle: 4 });
    const b = borrower();
    const worker = pool.acquire(b); // at once: nothing is ready yet, so the pool spawns this one
    const written = open(worker, 'data: early\n\n');
    await waitFor(() => written().includes('data: early'), 'the stream on the starting Worker');
    pool.recycle(worker);
    // The Worker says `ready` when its rehearsal ends, a few milliseconds after it starts and in practice before
    // this stream is closed, so `ready` is in by the time `released` is (were it later, no borrower could get it).
    await waitFor(() => pool.stats().returning === 0 && pool.stats().idle >= 1, 'the Worker back');
    expect(b.messages).toEqual([]);
  });

  it('hands the errors of a lent Worker to its borrower, and a discarded Worker exits', async () => {
    const { pool, open } = setup({ minIdle: 1, maxIdle: 4 });
    await waitFor(settled(pool, 1), 'one Worker ready');
    const failing = borrower();
    const broken = pool.acquire(failing);
    open(broken, '', 'throw'); // an uncaught error in the Worker after its replay (on Bun the Worker exits)
    const error = await waitFor(() => failing.errors[0], 'the error');
    expect(error.message).toContain('injected fault');
    expect(failing.messages).toEqual([]);
    pool.discard(broken);

    await waitFor(settled(pool, 1), 'the pool topped up');
    const healthy = pool.acquire(borrower());
    expect(healthy).not.toBe(broken);
    const written = open(healthy, '');
    await waitFor(() => written().startsWith('retry:'), 'the stream started');
    await waitFor(settled(pool, 1), 'the pool topped up again');
    const threads = pool.stats().threads;
    pool.discard(healthy);
    await waitFor(() => pool.stats().threads === threads - 1, 'the discarded Worker to exit');
    expect(failing.errors).toHaveLength(1);
  });

  it('lets a Worker coming back past maxIdle exit, and close() ends them all', async () => {
    const { pool, open } = setup({ minIdle: 1, maxIdle: 1 });
    await waitFor(settled(pool, 1), 'one Worker ready');
    const worker = pool.acquire(borrower());
    const written = open(worker, '');
    await waitFor(() => written().startsWith('retry:'), 'the stream started');
    await waitFor(settled(pool, 1), 'the pool topped up');
    expect(pool.stats().threads).toBe(2);
    pool.recycle(worker);
    // Well before the pool sheds idle Workers on its own (every 5 s): the Worker exits as it comes back.
    await waitFor(() => pool.stats().threads === 1, 'the Worker past maxIdle to exit', 2500);
    expect(pool.stats()).toMatchObject({ idle: 1, returning: 0 });
    pool.close();
    await waitFor(() => pool.stats().threads === 0, 'every Worker to exit');
  });

  it('never has more Workers alive than maxWorkers: past it a stream finds none (acquire throws), and that is no outage', async () => {
    const trouble: (Error | null)[] = [];
    const { pool, open } = setup({ minIdle: 4, maxIdle: 8, maxWorkers: 2, onSpawnTrouble: (e) => trouble.push(e) });
    await waitFor(settled(pool, 2), 'the two Workers the budget allows ready');
    expect(pool.stats().threads).toBe(2);
    const a = pool.acquire(borrower());
    const b = pool.acquire(borrower());
    expect(() => pool.acquire(borrower())).toThrow(/no thread to spare/);
    const written = open(a, '');
    await waitFor(() => written().startsWith('retry:'), 'a stream on a Worker within the budget');
    await waitFor(settled(pool, 0), 'the pool at rest');
    expect(pool.stats().threads).toBe(2); // the refills behind the acquires spawned nothing
    pool.recycle(a);
    await waitFor(settled(pool, 1), 'the Worker back');
    expect(pool.acquire(borrower())).toBe(a); // taken back, it serves the next stream
    pool.discard(b);
    await waitFor(() => pool.stats().threads === 1, 'the discarded Worker to exit');
    expect(pool.acquire(borrower())).not.toBe(b); // its thread is free again: a new Worker starts for the next stream
    expect(pool.stats().threads).toBe(2);
    expect(trouble).toEqual([]);
  });

  it('asks canSpawn before each spawn: while it says no, nothing spawns and a stream finds no Worker', async () => {
    let spare = false;
    const trouble: (Error | null)[] = [];
    const { pool } = setup({ minIdle: 1, maxIdle: 4, canSpawn: () => spare, onSpawnTrouble: (e) => trouble.push(e) });
    await waitFor(() => trouble.length === 1, 'the refill to report it cannot spawn');
    expect(pool.stats().threads).toBe(0);
    expect(() => pool.acquire(borrower())).toThrow(/no thread to spare/);
    spare = true; // threads to spare again: the retry a second later spawns
    await waitFor(settled(pool, 1), 'a Worker ready once threads are spare', 5000);
    expect(trouble).toEqual([trouble[0]!, null]);
  });
});
