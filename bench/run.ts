/**
 * `bun run bench`: the fan-out benchmark. For each subscriber count N it runs the bare one-thread baseline and
 * threadchat (and more targets on request) one after the other on this machine, and reports every figure with
 * its ratio to the baseline of the same run, then the issue's targets, met or not. Progress goes to stderr, the
 * tables to stdout.
 */
import { benchOptions } from './cli.ts';
import { createSubscriberPool } from './subscribers.ts';
import { percentile, formatTable, formatTlsCost, type Row } from './report.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLocalCertificate, type LocalCertificate } from '../scripts/local-cert.ts';
import { formatTargets } from './targets.ts';
import { rssKb, startTarget, stopServers } from './servers.ts';

const HELP = `Usage: bun run bench [options]

Starts each server on a free loopback port, opens N raw-socket SSE subscribers in one room, posts messages, and
reports deliveries/s, latency, connect time and memory per stream, each as a ratio to the bare baseline.

Options:
  --subs LIST        subscriber counts, comma-separated (default 100,1000)
  --messages M       messages posted back to back per N (default 200)
  --rate R           messages per second in the fixed-rate pass (default 100)
  --rate-seconds S   length of the fixed-rate pass (default 3)
  --targets LIST     baseline,sqlite,memory,redis (default baseline,sqlite; redis uses 127.0.0.1:6379)
  --storm            connect all N subscribers at once (default: 50 at a time)
  --rooms R          also run each N with idle streams held in R-1 other rooms, and compare with N alone
  --idle I           idle streams in those other rooms (default 990)
  --server-args=A    extra flags for threadchat's servers, space-separated (e.g. --server-args="--warm 1000")
  --tls              also run every target over HTTPS (HTTP/2 to the subscribers, a local certificate made with
                     openssl): ratios to the baseline over the same transport, and what TLS adds per delivery
  --json             print the results as JSON instead of tables
  --help             show this help
`;

const values = benchOptions(HELP, {
  subs: { type: 'string', default: '100,1000' },
  messages: { type: 'string', default: '200' },
  rate: { type: 'string', default: '100' },
  'rate-seconds': { type: 'string', default: '3' },
  targets: { type: 'string', default: 'baseline,sqlite' },
  storm: { type: 'boolean', default: false },
  rooms: { type: 'string', default: '1' },
  idle: { type: 'string', default: '990' },
  'server-args': { type: 'string', default: '' },
  tls: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});
const subsList = values.subs.split(',').map(Number);
const messages = Number(values.messages);
const rate = Number(values.rate);
const rateSeconds = Number(values['rate-seconds']);
const targets = values.targets.split(',');
const rooms = Number(values.rooms);
const idleStreams = Number(values.idle);
const serverArgs = values['server-args'].split(' ').filter(Boolean);
const fail = (message: string) => {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
};
if (subsList.some((n) => !Number.isInteger(n) || n < 1 || n > 8000)) fail('--subs takes whole numbers from 1 to 8000');
if (!(messages >= 1 && messages <= 100_000)) fail('--messages takes a whole number from 1 to 100000');
if (!(rate > 0 && rate <= 10_000) || !(rateSeconds > 0 && rateSeconds <= 600)) fail('--rate takes 1..10000, --rate-seconds 1..600');
if (!(Number.isInteger(rooms) && rooms >= 1 && rooms <= 1000) || !(Number.isInteger(idleStreams) && idleStreams >= 0 && idleStreams <= 8000)) fail('--rooms takes 1..1000, --idle 0..8000');
const unknown = targets.filter((t) => !['baseline', 'sqlite', 'memory', 'redis'].includes(t));
if (unknown.length) fail(`unknown target ${unknown.join(', ')}: use baseline, sqlite, memory, redis`);

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** How the bench reaches a server: plain HTTP, or HTTPS with the run's certificate (its PEM trusted as the CA). */
interface Transport {
  name: Row['transport'];
  cert: LocalCertificate | null;
  ca: string | null;
}
const origin = (t: Transport, port: number) => `${t.cert ? 'https' : 'http'}://127.0.0.1:${port}`;
const tlsOf = (t: Transport) => (t.ca ? { ca: t.ca } : undefined);

async function publish(t: Transport, port: number, seq: number) {
  const res = await fetch(`${origin(t, port)}/rooms/bench/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench', text: `b:${seq}:${performance.now().toFixed(3)}` }),
    tls: tlsOf(t),
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

/** One target at one N: `idle` streams wait in other rooms (0: the room is alone on the server). */
async function measure(target: string, subs: number, idle: number, t: Transport): Promise<Row> {
  const label = `${target}${t.cert ? ' over https' : ''}: N=${subs}${idle ? ` + ${idle} idle in ${rooms - 1} rooms` : ''}`;
  log(`${label}: starting`);
  const server = await startTarget(target, subs + idle, target === 'baseline' ? [] : serverArgs, t.cert);
  const subscribers = (path: string) => createSubscriberPool('127.0.0.1', server.port, path, t.ca);
  const idlePools: ReturnType<typeof createSubscriberPool>[] = [];
  try {
    const warm = Number(serverArgs[serverArgs.indexOf('--warm') + 1] ?? 0);
    if (target !== 'baseline' && serverArgs.includes('--warm')) {
      // An operator's --warm: the Workers are started before the clients come (as after a restart's warm-up).
      const deadline = Date.now() + 120_000;
      for (let idle = 0; idle < warm && Date.now() < deadline; await Bun.sleep(200)) {
        idle = ((await (await fetch(`${origin(t, server.port)}/healthz`, { tls: tlsOf(t) })).json()) as { idle: number }).idle;
      }
      log(`${label}: ${warm} Workers warm`);
    }
    for (let r = 1; r < rooms && idle > 0; r++) {
      const pool = subscribers(`/rooms/idle-${r}/events?history=0&format=json`);
      const share = Math.floor(idle / (rooms - 1)) + (r <= idle % (rooms - 1) ? 1 : 0);
      const failed = await pool.connect(share, 50);
      if (failed) log(`${label}: ${failed} idle streams did not connect`);
      idlePools.push(pool);
    }
    const rssBefore = rssKb(server.pid);
    const pool = subscribers('/rooms/bench/events?history=0&format=json');
    const t0 = performance.now();
    const concurrency = values.storm ? subs : 50;
    const failed = await pool.connect(subs, concurrency, (done) => done % 500 === 0 && done < subs && log(`${label}: connected ${done}/${subs}`));
    const connectAll = performance.now() - t0;
    if (failed) log(`${label}: ${failed} of ${subs} subscribers did not connect`);
    if (pool.refused()) log(`${label}: ${pool.refused()} connects were refused with 503 and retried after Retry-After`);
    const bulkTimes = [...pool.connectTimes];
    const rssAfter = rssKb(server.pid);

    // Paced connects on top of the open ones: what a newcomer waits at 50 connects/s. Not in the delivery count.
    const paced: number[] = [];
    const pacedPool = subscribers('/rooms/paced/events?history=0&format=json');
    for (let i = 0; i < 25; i++) {
      const started = performance.now();
      const ms = await pacedPool.connectTimed();
      if (ms !== null) paced.push(ms);
      await Bun.sleep(Math.max(0, 20 - (performance.now() - started)));
    }
    pacedPool.close();

    log(`${label}: ${messages} messages back to back`);
    pool.reset(messages);
    const start = performance.now();
    for (let seq = 0; seq < messages; seq++) await publish(t, server.port, seq);
    await settle(pool, messages * pool.subs.length);
    const burst = pool.result(messages);
    const seconds = (burst.lastAt - start) / 1000;

    const rateMessages = Math.max(1, Math.round(rate * rateSeconds));
    log(`${label}: ${rateMessages} messages at ${rate}/s`);
    pool.reset(rateMessages);
    const rateStart = performance.now();
    for (let seq = 0; seq < rateMessages; seq++) {
      await Bun.sleep(Math.max(0, rateStart + (seq * 1000) / rate - performance.now()));
      await publish(t, server.port, seq);
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
      transport: t.name,
      subs,
      idle,
      storm: values.storm,
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
      // With --warm the Workers were started before the first reading: the difference would leave them out.
      rssPerStreamKb: warm > 0 ? NaN : (rssAfter - rssBefore) / subs,
      rssMb: rssAfter / 1024,
      lost: burst.lost + steady.lost,
      duplicates: burst.duplicates + steady.duplicates,
    };
  } finally {
    for (const p of idlePools) p.close();
    await server.stop();
  }
}

const certDir = values.tls ? mkdtempSync(join(tmpdir(), 'threadchat-bench-tls-')) : null;
const transports: Transport[] = [{ name: 'http', cert: null, ca: null }];
if (certDir) {
  const cert = makeLocalCertificate(certDir);
  transports.push({ name: 'https', cert, ca: readFileSync(cert.cert, 'utf8') });
}
const rows: Row[] = [];
for (const subs of subsList) {
  for (const t of transports) {
    for (const target of targets) {
      const runs = rooms > 1 && target !== 'baseline' ? [0, idleStreams] : [0];
      for (const idle of runs) {
        try {
          rows.push(await measure(target, subs, idle, t));
        } catch (error) {
          log(`${target} (${t.name}): N=${subs}: failed: ${error}`);
        }
      }
    }
  }
}
if (certDir) rmSync(certDir, { recursive: true, force: true });
const tlsCost = values.tls ? `\n\nWhat TLS adds per delivery:\n\n${formatTlsCost(rows)}` : '';
if (values.json) process.stdout.write(JSON.stringify({ messages, rate, rows }, null, 2) + '\n');
else process.stdout.write(`${formatTable(rows)}${tlsCost}\n\n${formatTargets(rows.filter((r) => r.transport === 'http'))}\n`);
stopServers();
process.exit(0);
