/**
 * `bun run bench`: the fan-out benchmark. For each subscriber count N it runs the bare one-thread baseline and
 * threadchat (and more targets on request) one after the other on this machine, and reports every figure with
 * its ratio to the baseline of the same run. Progress goes to stderr, the table to stdout.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSubscriberPool } from './subscribers.ts';
import { percentile, formatTable, type Row } from './report.ts';

const HELP = `Usage: bun run bench [options]

Starts each server on a free loopback port, opens N raw-socket SSE subscribers, posts messages, and reports
deliveries/s, latency, connect time and memory per stream, each as a ratio to the bare baseline.

Options:
  --subs LIST        subscriber counts, comma-separated (default 100,1000)
  --messages M       messages posted back to back per N (default 200)
  --rate R           messages per second in the fixed-rate pass (default 100)
  --rate-seconds S   length of the fixed-rate pass (default 3)
  --targets LIST     baseline,sqlite,memory,redis (default baseline,sqlite; redis uses 127.0.0.1:6379)
  --json             print the results as JSON instead of a table
  --help             show this help
`;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    subs: { type: 'string', default: '100,1000' },
    messages: { type: 'string', default: '200' },
    rate: { type: 'string', default: '100' },
    'rate-seconds': { type: 'string', default: '3' },
    targets: { type: 'string', default: 'baseline,sqlite' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const subsList = values.subs.split(',').map(Number);
const messages = Number(values.messages);
const rate = Number(values.rate);
const rateSeconds = Number(values['rate-seconds']);
const targets = values.targets.split(',');
if (subsList.some((n) => !Number.isInteger(n) || n < 1 || n > 8000) || !(messages >= 1 && messages <= 100_000)) {
  process.stderr.write('bench: --subs takes whole numbers from 1 to 8000, --messages from 1 to 100000\n');
  process.exit(2);
}

const ROOT = join(import.meta.dir, '..');
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const children = new Set<ReturnType<typeof Bun.spawn>>();
const stopAll = () => children.forEach((c) => c.kill('SIGKILL'));
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

interface Started {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startTarget(target: string, subs: number): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'threadchat-bench-'));
  const common = ['--port', '0', '--log', 'silent', '--max-streams', String(subs + 500), '--max-streams-per-ip', String(subs + 500), '--post-rate', '0', '--post-rate-ip', '0'];
  const cmd =
    target === 'baseline' ? [process.execPath, join(ROOT, 'bench/baseline-server.ts')]
    : target === 'redis' ? [process.execPath, join(ROOT, 'server.ts'), ...common, '--store', `redis://127.0.0.1:6379/${9}`]
    : [process.execPath, join(ROOT, 'server.ts'), ...common, '--store', target, '--data', dir];
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' });
  children.add(proc);
  let out = '';
  const decoder = new TextDecoder();
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const deadline = Date.now() + 20_000;
  while (!/listening on http:\/\/[^:]+:(\d+)/.test(out)) {
    if (Date.now() > deadline) throw new Error(`${target} did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${target} exited: ${out}`);
    out += decoder.decode(value);
  }
  void (async () => { while (!(await reader.read()).done); })();
  const port = Number(out.match(/listening on http:\/\/[^:]+:(\d+)/)![1]);
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
      children.delete(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const rssKb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);

async function publish(port: number, seq: number) {
  const res = await fetch(`http://127.0.0.1:${port}/rooms/bench/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench', text: `b:${seq}:${performance.now().toFixed(3)}` }),
  });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/** Waits until `expected` deliveries arrived, or nothing arrived for `stallMs`. */
async function settle(pool: ReturnType<typeof createSubscriberPool>, expected: number, stallMs = 10_000) {
  let last = pool.delivered();
  let since = Date.now();
  while (pool.delivered() < expected) {
    await Bun.sleep(20);
    if (pool.delivered() !== last) {
      last = pool.delivered();
      since = Date.now();
    } else if (Date.now() - since > stallMs) break;
  }
}

async function measure(target: string, subs: number): Promise<Row> {
  log(`${target}: N=${subs}: starting`);
  const server = await startTarget(target, subs);
  try {
    const rssBefore = rssKb(server.pid);
    const pool = createSubscriberPool('127.0.0.1', server.port, '/rooms/bench/events?history=0&format=json');
    const t0 = performance.now();
    const failed = await pool.connect(subs, 50, (done) => done % 500 === 0 && done < subs && log(`${target}: connected ${done}/${subs}`));
    const connectAll = performance.now() - t0;
    const bulkTimes = [...pool.connectTimes];
    const rssAfter = rssKb(server.pid);

    // Paced connects on top of the open ones: what a newcomer waits at 50 connects/s.
    const paced: number[] = [];
    for (let i = 0; i < 25; i++) {
      const started = performance.now();
      const ms = await pool.connectTimed();
      if (ms !== null) paced.push(ms);
      await Bun.sleep(Math.max(0, 20 - (performance.now() - started)));
    }

    log(`${target}: N=${subs}: ${messages} messages back to back`);
    pool.reset(messages);
    const start = performance.now();
    for (let seq = 0; seq < messages; seq++) await publish(server.port, seq);
    await settle(pool, messages * pool.subs.length);
    const burst = pool.result(messages);
    const seconds = (burst.lastAt - start) / 1000;

    const rateMessages = Math.max(1, Math.round(rate * rateSeconds));
    log(`${target}: N=${subs}: ${rateMessages} messages at ${rate}/s`);
    pool.reset(rateMessages);
    const rateStart = performance.now();
    for (let seq = 0; seq < rateMessages; seq++) {
      await Bun.sleep(Math.max(0, rateStart + (seq * 1000) / rate - performance.now()));
      await publish(server.port, seq);
    }
    await settle(pool, rateMessages * pool.subs.length);
    const steady = pool.result(rateMessages);
    pool.close();

    const lat = [...burst.latencies].sort((a, b) => a - b);
    const steadyLat = [...steady.latencies].sort((a, b) => a - b);
    const sortedBulk = bulkTimes.sort((a, b) => a - b);
    const sortedPaced = paced.sort((a, b) => a - b);
    return {
      target,
      subs,
      failedConnects: failed,
      connectAllMs: connectAll,
      connectP50: percentile(sortedBulk, 0.5),
      connectP99: percentile(sortedBulk, 0.99),
      pacedConnectP99: percentile(sortedPaced, 0.99),
      deliveriesPerSec: burst.count / seconds,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat.at(-1) ?? NaN,
      steadyP50: percentile(steadyLat, 0.5),
      steadyP99: percentile(steadyLat, 0.99),
      rssPerStreamKb: (rssAfter - rssBefore) / subs,
      rssMb: rssAfter / 1024,
      lost: burst.lost + steady.lost,
      duplicates: burst.duplicates + steady.duplicates,
    };
  } finally {
    await server.stop();
  }
}

const rows: Row[] = [];
for (const subs of subsList) {
  for (const target of targets) {
    try {
      rows.push(await measure(target, subs));
    } catch (error) {
      log(`${target}: N=${subs}: failed: ${error}`);
    }
  }
}
if (values.json) process.stdout.write(JSON.stringify({ messages, rate, rows }, null, 2) + '\n');
else process.stdout.write(formatTable(rows) + '\n');
stopAll();
process.exit(0);
