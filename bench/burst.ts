/**
 * `bun run bench:burst`: one burst into one room, with where the CPU went. Starts a server (memory store), opens N
 * subscribers at once, posts M messages back to back, and reports deliveries/s, latency, and the CPU of the main
 * thread and of all other threads, and the times those threads blocked (voluntary context switches, from
 * /proc). For comparing settings by environment: THREADCHAT_JIT=default|nodfg|lazy|nojit, THREADCHAT_WAIT=atomics,
 * THREADCHAT_WAVE_WIDTH=N (they reach the server, not this process's own JIT).
 */
import { benchOptions } from './cli.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { createSubscriberPool } from './subscribers.ts';
import { startTarget } from './servers.ts';
import { percentile } from './report.ts';

const HELP = `Usage: bun run bench:burst [options]

Options:
  --subs N          subscribers in the room (default 1000)
  --messages M      messages posted back to back (default 150)
  --server-args=A   extra flags for the server, space-separated
  --help            show this help
`;
const values = benchOptions(HELP, { subs: { type: 'string', default: '1000' }, messages: { type: 'string', default: '150' }, 'server-args': { type: 'string', default: '' } });
const n = Number(values.subs);
const m = Number(values.messages);
if (!(Number.isInteger(n) && n >= 1 && n <= 8000) || !(Number.isInteger(m) && m >= 1 && m <= 100_000)) {
  process.stderr.write('bench:burst: --subs 1..8000, --messages 1..100000\n');
  process.exit(2);
}

/** CPU ms of the main thread and of the others, and the others' voluntary context switches. */
function threads(pid: number) {
  let main = 0;
  let rest = 0;
  let blocked = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * 10;
      if (Number(tid) === pid) main += ms;
      else {
        rest += ms;
        blocked += Number(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8').match(/^voluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
      }
    } catch {
      // the thread exited meanwhile
    }
  }
  return { main, rest, blocked };
}

const server = await startTarget('memory', n, values['server-args'].split(' ').filter(Boolean));
try {
  const pool = createSubscriberPool('127.0.0.1', server.port, '/rooms/bench/events?history=0&format=json');
  const failed = await pool.connect(n, n);
  await Bun.sleep(1500); // the arrivals' presence events are out
  pool.reset(m);
  const before = threads(server.pid);
  const t0 = performance.now();
  for (let i = 0; i < m; i++) {
    const res = await fetch(`http://127.0.0.1:${server.port}/rooms/bench/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench', text: `b:${i}:${performance.now().toFixed(3)}` }),
    });
    await res.arrayBuffer();
  }
  const posted = performance.now() - t0;
  while (pool.delivered() < n * m && performance.now() - t0 < 30_000) await Bun.sleep(10);
  const after = threads(server.pid);
  const r = pool.result(m);
  const lat = [...r.latencies].sort((a, b) => a - b);
  const seconds = (r.lastAt - t0) / 1000;
  process.stdout.write(
    `N=${n} (${failed} failed to connect), ${m} messages posted in ${posted.toFixed(0)} ms: ${r.count} deliveries, ` +
      `${(r.count / seconds).toFixed(0)}/s, p50 ${percentile(lat, 0.5).toFixed(1)} ms, p99 ${percentile(lat, 0.99).toFixed(1)} ms, lost ${r.lost}; ` +
      `CPU main ${after.main - before.main} ms, other threads ${after.rest - before.rest} ms, blocked ${after.blocked - before.blocked} times\n`,
  );
  pool.close();
} finally {
  await server.stop();
}
process.exit(0);
