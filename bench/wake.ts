/**
 * `bun run bench:wake`: what one wake of a blocked thread costs, for each primitive the fan-out could use. N
 * threads block on one shared word; each round the main thread changes the word and wakes them all, waits until
 * every thread has acknowledged, then lets them block again. Reported: CPU time of the whole process (every
 * thread, user and system) per wake, against the floor of C threads in futex(2).
 *
 *   pthreads  C threads (bench/wake-floor.c, compiled by bun:ffi) in futex(2): the kernel's floor
 *   futex     Bun Workers in futex(2) through bun:ffi, one FUTEX_WAKE for all (runtime/wait-word.ts, `futex`)
 *   atomics   Bun Workers in Atomics.wait, woken by Atomics.notify (runtime/wait-word.ts, `atomics`)
 *   wave      Bun Workers in futex(2) at nice 19, woken as a room's are (fanout/shm/room-waves.ts): the main thread
 *             wakes --width of them, and each woken one wakes the next until all had their turn. Its wall
 *             time per round is the floor of a wave's latency: one message reaching every stream of a room.
 */
import { benchOptions } from './cli.ts';
import { join } from 'node:path';
import { openWaitWords, type WaitKind } from '../runtime/wait-word.ts';

const HELP = `Usage: bun run bench:wake [options]

Options:
  --threads N    threads woken per round (default 1000)
  --rounds R     wake rounds per primitive (default 30)
  --kinds LIST   pthreads,futex,atomics,wave (default all four)
  --width W      threads the main thread wakes at the start of a wave (default 4, as the server)
  --json         print JSON instead of a table
  --help         show this help
`;
const values = benchOptions(HELP, {
  threads: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '30' },
  kinds: { type: 'string', default: 'pthreads,futex,atomics,wave' },
  width: { type: 'string', default: '4' },
  json: { type: 'boolean', default: false },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const kinds = values.kinds.split(',');
const width = Number(values.width);
if (!(threads >= 1 && threads <= 5000) || !(rounds >= 1 && rounds <= 10_000) || !(width >= 1 && width <= threads)
  || kinds.some((k) => !['pthreads', 'futex', 'atomics', 'wave'].includes(k))) {
  process.stderr.write('bench:wake: --threads 1..5000, --rounds 1..10000, --width 1..threads, --kinds from pthreads,futex,atomics,wave\n');
  process.exit(2);
}
const log = (s: string) => process.stderr.write(`[wake] ${s}\n`);
const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const SYSCALLS: Record<string, { futex: number; nanosleep: number }> = { x64: { futex: 202, nanosleep: 35 }, arm64: { futex: 98, nanosleep: 101 } };

interface Result {
  kind: string;
  width?: number;
  threads: number;
  rounds: number;
  cpuPerWakeUs: number;
  wallPerRoundMs: number;
}

function runPthreads(): Result {
  const { cc } = require('bun:ffi') as typeof import('bun:ffi');
  const nr = SYSCALLS[process.arch];
  if (!nr) throw new Error(`no syscall numbers for ${process.arch}`);
  const lib = cc({
    source: join(import.meta.dir, 'wake-floor.c'),
    symbols: { wake_floor: { args: ['i32', 'i32', 'i32', 'i32'], returns: 'i32' } },
  });
  // The C side pauses 2 ms per round (and 200 ms at the start) so that every wake finds its thread blocked.
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  const done = lib.symbols.wake_floor(threads, rounds, nr.futex, nr.nanosleep);
  const wall = performance.now() - t0 - 200 - 2 * rounds;
  const cpu = cpuMicros() - cpu0;
  if (done !== rounds) throw new Error(`pthreads: ${done} rounds acknowledged, expected ${rounds}`);
  return { kind: 'pthreads', threads, rounds, cpuPerWakeUs: cpu / (threads * rounds), wallPerRoundMs: wall / rounds };
}

async function runWorkers(kind: WaitKind, wave: boolean): Promise<Result> {
  const buffer = new SharedArrayBuffer(16);
  const words = new Int32Array(buffer);
  const wake = openWaitWords(words, kind);
  const workers: Worker[] = [];
  let ready = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(join(import.meta.dir, 'wake-worker.ts'), { smol: true } as WorkerOptions);
      w.onmessage = (e) => {
        if (e.data === 'ready' && ++ready === threads) resolve();
        if (e.data === 'done') done++;
      };
      w.postMessage({ buffer, kind, wave });
      workers.push(w);
    }
  });
  log(`${wave ? 'wave' : kind}: ${threads} Workers ready`);
  await Bun.sleep(200);
  const cpu0 = cpuMicros();
  let wall = 0;
  for (let r = 1; r <= rounds; r++) {
    const t0 = performance.now();
    Atomics.store(words, 3, threads - width);
    Atomics.store(words, 0, r);
    if (wave) wake.wake(0, width);
    else wake.wakeAll(0);
    while (Atomics.load(words, 1) < r * threads) Bun.sleepSync(0.1);
    wall += performance.now() - t0;
    Bun.sleepSync(2);
  }
  const cpu = cpuMicros() - cpu0;
  Atomics.store(words, 2, 1);
  wake.wakeAll(0);
  const deadline = Date.now() + 15_000;
  while (done < threads && Date.now() < deadline) await Bun.sleep(10);
  for (const w of workers) w.terminate();
  return { kind: wave ? 'wave' : kind, ...(wave ? { width } : {}), threads, rounds, cpuPerWakeUs: cpu / (threads * rounds), wallPerRoundMs: wall / rounds };
}

const results: Result[] = [];
for (const kind of kinds) {
  log(`${kind}: ${threads} threads, ${rounds} rounds`);
  try {
    results.push(kind === 'pthreads' ? runPthreads() : kind === 'wave' ? await runWorkers('futex', true) : await runWorkers(kind as WaitKind, false));
  } catch (error) {
    log(`${kind}: failed: ${error}`);
  }
}
const floor = results.find((r) => r.kind === 'pthreads');
if (values.json) process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
else {
  const lines = ['| primitive | threads | rounds | CPU per wake µs | wall per round ms |', '|---|---|---|---|---|'];
  for (const r of results) {
    const ratio = floor && r !== floor ? ` (${(r.cpuPerWakeUs / floor.cpuPerWakeUs).toFixed(1)}x)` : '';
    lines.push(`| ${r.kind}${r.width ? ` (width ${r.width})` : ''} | ${r.threads} | ${r.rounds} | ${r.cpuPerWakeUs.toFixed(1)}${ratio} | ${r.wallPerRoundMs.toFixed(2)} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
process.exit(0);
