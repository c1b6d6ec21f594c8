/**
 * Cheap SSE subscribers for the bench: raw TCP sockets (Bun.connect), one GET each, no fetch and no parser
 * beyond finding the bench's message texts `b:<seq>:<send time>` in the bytes that arrive. Over HTTPS (`ca`
 * given), each subscriber is its own HTTP/2 connection (node:http2), as separate clients are.
 */
import { connect as connectHttp2 } from 'node:http2';

export interface Delivery {
  count: number;
  lost: number;
  duplicates: number;
  latencies: Float64Array;
  lastAt: number;
}

interface Sub {
  /** Ends its connection. */
  end: () => void;
  tail: string;
  seen: Uint8Array;
  ready: boolean;
  connectStart: number;
  closed: boolean;
  /** Seconds the server asked to wait (a 503 with Retry-After), or 0. */
  refusedFor: number;
  /** Called once: with true at the first frame, false if the socket closes before it. */
  settle: ((ready: boolean) => void) | null;
}

const PATTERN = /"text":"b:(\d+):([\d.]+)"/g;

/** Opens subscribers to `path` on host:port and records every bench message they receive; `ca`: over HTTPS. */
export function createSubscriberPool(host: string, port: number, path: string, ca: string | null = null) {
  const subs: Sub[] = [];
  let capacity = 0;
  let latencies = new Float64Array(0);
  let count = 0;
  let duplicates = 0;
  let lastAt = 0;
  const connectTimes: number[] = [];
  let refused = 0;

  const onData = (sub: Sub, text: string) => {
    const now = performance.now();
    if (!sub.ready && text.startsWith('HTTP/1.1 503')) {
      sub.refusedFor = Number(text.match(/\r\nretry-after: *(\d+)/i)?.[1] ?? 1);
      sub.end();
      return;
    }
    if (!sub.ready && text.includes('retry:')) {
      sub.ready = true;
      connectTimes.push(now - sub.connectStart);
      sub.settle?.(true);
      sub.settle = null;
    }
    const chunk = sub.tail + text;
    const cut = chunk.lastIndexOf('\n');
    sub.tail = cut < 0 ? chunk : chunk.slice(cut + 1);
    const lines = cut < 0 ? '' : chunk.slice(0, cut);
    for (const m of lines.matchAll(PATTERN)) {
      const seq = Number(m[1]);
      if (seq >= sub.seen.length) continue;
      if (sub.seen[seq]) {
        duplicates++;
        continue;
      }
      sub.seen[seq] = 1;
      if (count < capacity) latencies[count] = now - Number(m[2]);
      count++;
      lastAt = now;
    }
  };

  const closed = (sub: Sub) => {
    sub.closed = true;
    sub.settle?.(false);
  };
  /** One HTTP/2 connection with one stream; a 503 is read from its headers, the rest as over TCP. */
  const connectOverHttp2 = (sub: Sub, ca: string) => {
    const session = connectHttp2(`https://${host}:${port}`, { ca });
    sub.end = () => session.close();
    session.on('error', () => closed(sub));
    const stream = session.request({ ':path': path, accept: 'text/event-stream' });
    stream.on('response', (headers) => {
      if (headers[':status'] !== 503) return;
      sub.refusedFor = Number(headers['retry-after'] ?? 1);
      session.close();
    });
    stream.on('data', (data: Buffer) => onData(sub, data.toString('latin1')));
    stream.on('close', () => closed(sub));
    stream.on('error', () => closed(sub));
  };

  const connectOne = async () => {
    const sub: Sub = { end: () => {}, tail: '', seen: new Uint8Array(capacity), ready: false, connectStart: performance.now(), closed: false, refusedFor: 0, settle: null };
    subs.push(sub);
    if (ca !== null) {
      connectOverHttp2(sub, ca);
      return sub;
    }
    const socket = await Bun.connect<Sub>({
      hostname: host,
      port,
      data: sub,
      socket: {
        open(socket) {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
        },
        data(socket, data) {
          onData(socket.data, data.toString('latin1'));
        },
        close: (socket) => closed(socket.data),
        error: (socket) => closed(socket.data),
      },
    });
    sub.end = () => socket.end();
    return sub;
  };

  const waitReady = (sub: Sub, ms: number) =>
    sub.ready || sub.closed
      ? Promise.resolve(sub.ready)
      : new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          sub.settle = (ready) => {
            clearTimeout(timer);
            resolve(ready);
          };
        });

  return {
    subs,
    connectTimes,
    /**
     * Opens `n` more subscribers, `concurrency` at a time (n: all at once); resolves when each has its first
     * frame, or `readyMs` passed. A subscriber refused with 503 tries again after its Retry-After, as bin/chat
     * and the page do (a storm's clients come back). Returns how many did not connect in time.
     */
    async connect(n: number, concurrency = 50, onProgress?: (done: number) => void, readyMs = 30_000) {
      let started = 0;
      let failed = 0;
      let done = 0;
      const deadline = performance.now() + readyMs;
      const lane = async () => {
        while (started < n) {
          started++;
          for (;;) {
            const sub = await connectOne().catch(() => null);
            const left = deadline - performance.now();
            if (sub && (await waitReady(sub, Math.max(1, left)))) break;
            const wait = (sub?.refusedFor ?? 0) * 1000 * (0.5 + Math.random()); // spread the returns
            if (!sub?.refusedFor || performance.now() + wait >= deadline) {
              failed++;
              break;
            }
            refused++;
            subs.splice(subs.indexOf(sub), 1);
            await Bun.sleep(wait);
          }
          onProgress?.(++done);
        }
      };
      await Promise.all(Array.from({ length: Math.min(n, concurrency) }, lane));
      return failed;
    },
    /** 503 answers that were retried, so far. */
    refused: () => refused,
    /** Opens one subscriber and returns how long it took to get its first frame (ms), or null. */
    async connectTimed() {
      const sub = await connectOne().catch(() => null);
      if (!sub || !(await waitReady(sub, 15_000))) return null;
      return connectTimes.at(-1)!;
    },
    /** Starts a new measurement of `messages` messages. */
    reset(messages: number) {
      capacity = messages * subs.length;
      latencies = new Float64Array(capacity);
      count = 0;
      duplicates = 0;
      for (const sub of subs) sub.seen = new Uint8Array(messages);
    },
    delivered: () => count,
    /** Every subscriber counts, closed or refused ones too: what one of them missed is lost. */
    result(messages: number): Delivery {
      return { count, lost: Math.max(0, messages * subs.length - count), duplicates, latencies: latencies.subarray(0, Math.min(count, capacity)), lastAt };
    },
    openCount: () => subs.filter((s) => !s.closed && s.ready).length,
    close() {
      for (const sub of subs) sub.end();
    },
  };
}
