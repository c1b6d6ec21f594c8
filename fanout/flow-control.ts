/**
 * Flow control of a room's fan-out: a POST is answered once no entry of its room has waited more than MAX_LAG_MS
 * for a wave to take it.
 *
 * Why: a POST is stored and in the shared log within a fraction of a millisecond, but a wave takes tens of
 * milliseconds to reach a thousand streams (room-waves.ts). A publisher posting back to back would otherwise
 * queue hundreds of messages ahead of the streams, and every one of them would wait behind the queue: the
 * latency grows with the flood, not with the room. An entry waits for the running wave to end (the next wave
 * takes it, with every other entry that arrived meanwhile), then for its own wave: at most two waves, as long as
 * the queue in front of the next wave stays short. Holding a POST's answer while the oldest entry waiting for a
 * wave is older than MAX_LAG_MS keeps it short: a flood queues MAX_LAG_MS of messages per wave, no more, and the
 * waves still carry many messages each, so throughput stays what batching gives. A bare server that writes every
 * socket before it answers (bench/baseline-server.ts) holds its publishers the same way, only longer.
 *
 * An entry is taken once a wave started after it (ROOM_WAVE_SEQ, written when a wave starts). A POST never waits
 * longer than MAX_WAIT_MS: a stalled wave (a lost baton, restarted within seconds by room-words.ts) does not
 * hold publishers with it. Entries that arrive from the store of another instance (Redis) are counted too,
 * though only local POSTs wait.
 */
import { ROOM_WAVE_SEQ } from './shm/protocol.ts';

/** How far behind a room's streams may be before a POST into it waits; 0 turns flow control off. */
const MAX_LAG_MS = Number(process.env.THREADCHAT_MAX_LAG_MS ?? 30);
/** The longest a POST is held, whatever the room's state. */
const MAX_WAIT_MS = 1000;
/** How often held POSTs look at their rooms again. */
const CHECK_MS = 1;

interface Pending {
  /** Log sequence numbers + 1 (as ROOM_WAVE_SEQ counts) and append times, oldest first. */
  seqs: number[];
  times: number[];
  head: number;
  waiters: { resolve: () => void; since: number }[];
}

export function createFlowControl(words: Int32Array, held: () => void) {
  const rooms = new Map<number, Pending>(); // by room word
  let timer: ReturnType<typeof setTimeout> | null = null;

  /** Drops the entries a wave took; the append time of the oldest left, or -1 when none is. */
  const oldest = (word: number, p: Pending): number => {
    const done = Atomics.load(words, word + ROOM_WAVE_SEQ);
    while (p.head < p.seqs.length && p.seqs[p.head]! <= done) p.head++;
    if (p.head === p.seqs.length) {
      p.seqs.length = p.times.length = p.head = 0;
      return -1;
    }
    if (p.head > 1024) { // compact now and then, not on every entry
      p.seqs.splice(0, p.head);
      p.times.splice(0, p.head);
      p.head = 0;
    }
    return p.times[p.head]!;
  };

  const behind = (word: number, p: Pending, now: number) => {
    const t = oldest(word, p);
    return t >= 0 && now - t > MAX_LAG_MS;
  };

  const check = () => {
    timer = null;
    const now = performance.now();
    let waiting = false;
    for (const [word, p] of rooms) {
      if (p.waiters.length === 0) {
        if (oldest(word, p) < 0) rooms.delete(word);
        continue;
      }
      const late = behind(word, p, now);
      p.waiters = p.waiters.filter((w) => {
        if (late && now - w.since < MAX_WAIT_MS) return true;
        w.resolve();
        return false;
      });
      waiting ||= p.waiters.length > 0;
    }
    if (waiting) timer = setTimeout(check, CHECK_MS);
  };

  return {
    /** Entry `seq` of the room at `word` went into the log now. */
    appended(word: number, seq: number) {
      if (MAX_LAG_MS <= 0 || word < 0) return;
      let p = rooms.get(word);
      if (!p) rooms.set(word, (p = { seqs: [], times: [], head: 0, waiters: [] }));
      else oldest(word, p); // what waves took goes, whether or not anyone waits
      p.seqs.push(seq + 1);
      p.times.push(performance.now());
    },
    /** Resolves when the room at `word` is no more than MAX_LAG_MS behind (null: it is not behind now). */
    caughtUp(word: number): Promise<void> | null {
      const p = word < 0 ? undefined : rooms.get(word);
      const now = performance.now();
      if (!p || !behind(word, p, now)) return null;
      held();
      return new Promise<void>((resolve) => {
        p.waiters.push({ resolve, since: now });
        timer ??= setTimeout(check, CHECK_MS);
      });
    },
    close() {
      if (timer) clearTimeout(timer);
      for (const p of rooms.values()) for (const w of p.waiters) w.resolve();
      rooms.clear();
    },
  };
}
