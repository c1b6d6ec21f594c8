/**
 * `bun run bench:spawn`: what a Worker costs before it serves anything, the floor under a connect storm and under
 * memory per stream. Starts N Workers at once and reports, per Worker: wall time until all are ready, CPU time,
 * resident memory, and CPU spent per second while they sit idle. Kinds:
 *
 *   empty   a smol Worker whose script only answers one message (the runtime's own floor)
 *   stream  the stream Worker as the server starts it (bundled in memory, smol, `init` with the shared memory)
 */
import { benchOptions } from './cli.ts';
import { readFileSync } from 'node:fs';
import { createLogWriter } from '../fanout/shm/shared-log.ts';
import { createRoomWords } from '../fanout/shm/room-words.ts';
import { controlInts } from '../fanout/shm/protocol.ts';
import { prepareThreads, spawnThread } from '../runtime/thread.ts';
import type { MainToWorker, WorkerToMain } from '../fanout/shm/protocol.ts';
import { preferredWaitKind } from '../runtime/wait-word.ts';

const HELP = `Usage: bun run bench:spawn [options]

Options:
  --workers N   Workers started at once per kind (default 500)
  --kinds LIST  empty,stream (default both)
  --help        show this help
`;
const values = benchOptions(HELP, { workers: { type: 'string', default: '500' }, kinds: { type: 'string', default: 'empty,stream' } });
const n = Number(values.workers);
const kinds = values.kinds.split(',');
if (!(Number.isInteger(n) && n >= 1 && n <= 5000) || kinds.some((k) => k !== 'empty' && k !== 'stream')) {
  process.stderr.write('bench:spawn: --workers 1..5000, --kinds from empty,stream\n');
  process.exit(2);
}
const log = (s: string) => process.stderr.write(`[spawn] ${s}\n`);
const rssKb = () => Number(readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Started {
  ready: Promise<void>;
  stop(): void;
}

function startEmpty(): Started[] {
  const url = URL.createObjectURL(new Blob(["self.onmessage = () => self.postMessage('ready');"], { type: 'text/javascript' }));
  return Array.from({ length: n }, () => {
    const w = new Worker(url, { smol: true } as WorkerOptions);
    const ready = new Promise<void>((resolve) => (w.onmessage = () => resolve()));
    w.postMessage(0);
    return { ready, stop: () => w.terminate() };
  });
}

async function startStream(): Promise<Started[]> {
  await prepareThreads();
  const log = createLogWriter();
  const rooms = createRoomWords(n, preferredWaitKind());
  const control = new SharedArrayBuffer(4 * controlInts(n));
  const init: MainToWorker = { type: 'init', init: { log: log.buffer, logSizes: log.sizes, rooms: rooms.buffer, control, wait: rooms.kind } };
  return Array.from({ length: n }, () => {
    const t = spawnThread<MainToWorker, WorkerToMain>('workers/stream-worker', { smol: true });
    const ready = new Promise<void>((resolve) => (t.onmessage = (m) => m.type === 'ready' && resolve()));
    t.postMessage(init);
    return { ready, stop: () => t.terminate() };
  });
}

const rows: string[] = ['| kind | Workers | wall ms per Worker (all at once) | CPU ms per Worker | RSS MB per Worker | idle CPU µs per Worker per second |', '|---|---|---|---|---|---|'];
for (const kind of kinds) {
  Bun.gc(true);
  await Bun.sleep(300);
  const rss0 = rssKb();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const started = kind === 'empty' ? startEmpty() : await startStream();
  await Promise.all(started.map((s) => s.ready));
  const wall = performance.now() - t0;
  const cpu = cpuMs() - cpu0;
  await Bun.sleep(2000);
  const rss = rssKb() - rss0;
  const idle0 = cpuMs();
  await Bun.sleep(4000);
  const idle = ((cpuMs() - idle0) / 4) * 1000; // µs per second, all Workers
  log(`${kind}: ${n} ready in ${wall.toFixed(0)} ms`);
  rows.push(`| ${kind} | ${n} | ${(wall / n).toFixed(2)} | ${(cpu / n).toFixed(2)} | ${(rss / 1024 / n).toFixed(2)} | ${(idle / n).toFixed(0)} |`);
  for (const s of started) s.stop();
  await Bun.sleep(1000);
}
process.stdout.write(rows.join('\n') + '\n');
process.exit(0);
