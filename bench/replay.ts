/**
 * `bun run bench:replay`: how fast a stream catches up on a backlog, as a client does that resumes with
 * Last-Event-ID after being away (or dropped as slow). Posts M messages of B bytes into one room, then opens one
 * stream from the start (`Last-Event-ID: 0`) in each format and times it until the last message has arrived. The
 * reference is one bare Bun thread (a Bun.serve in a child process) writing the same bytes as one response, in
 * the same run. The stream's bytes all pass through its Worker's 64 KiB ring, so this measures the ring's
 * hand-off between the Worker and the main thread when it is full all the time.
 */
import { benchOptions } from './cli.ts';
import { startTarget } from './servers.ts';

const HELP = `Usage: bun run bench:replay [options]

Options:
  --messages M     messages in the backlog (default 2000)
  --bytes B        text bytes per message (default 3900; at most 4000)
  --targets LIST   memory,sqlite (default memory,sqlite)
  --json           print the results as JSON instead of a table
  --help           show this help
`;
const values = benchOptions(HELP, {
  messages: { type: 'string', default: '2000' },
  bytes: { type: 'string', default: '3900' },
  targets: { type: 'string', default: 'memory,sqlite' },
  json: { type: 'boolean', default: false },
});
const messages = Number(values.messages);
const bytes = Number(values.bytes);
const targets = values.targets.split(',').filter(Boolean);
if (!(Number.isInteger(messages) && messages >= 1 && messages <= 100_000) || !(Number.isInteger(bytes) && bytes >= 1 && bytes <= 4000)
  || !targets.every((t) => t === 'memory' || t === 'sqlite')) {
  process.stderr.write('bench:replay: --messages 1..100000, --bytes 1..4000, --targets memory,sqlite\n');
  process.exit(2);
}
const progress = (s: string) => process.stderr.write(`bench:replay: ${s}\n`);

/** Reads `url` to its end, or until the event with id `lastId` has arrived; returns the milliseconds and the bytes read. */
async function timedRead(url: string, headers: Record<string, string>, lastId: string | null): Promise<{ ms: number; bytes: number }> {
  const abort = new AbortController();
  const started = performance.now();
  const res = await fetch(url, { headers, signal: abort.signal });
  const decoder = new TextDecoder();
  let total = 0;
  let tail = '';
  for await (const chunk of res.body as ReadableStream<Uint8Array>) {
    total += chunk.length;
    if (lastId === null) continue;
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-8192);
    if (tail.includes(`id: ${lastId}\n`)) break;
  }
  const ms = performance.now() - started;
  abort.abort();
  return { ms, bytes: total };
}

interface Row { target: string; format: string; messages: number; mb: number; ms: number; mbPerSec: number; ratio: number }
const rows: Row[] = [];
const text = 'y'.repeat(bytes);
for (const target of targets) {
  const server = await startTarget(target, 10, ['--retention', String(messages + 10)]);
  const base = `http://127.0.0.1:${server.port}`;
  try {
    progress(`${target}: posting ${messages} messages of ${bytes} bytes`);
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < messages) {
        const i = next++;
        const res = await fetch(`${base}/rooms/replay/messages`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ name: 'bench', text: `${i} ${text}` }),
        });
        if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    }));
    const newest = (await (await fetch(`${base}/rooms/replay/messages?limit=1`)).json()) as { messages: { id: string }[] };
    const lastId = newest.messages.at(-1)!.id;
    for (const format of ['json', 'text']) {
      const stream = await timedRead(`${base}/rooms/replay/events?format=${format}`, { 'Last-Event-ID': '0' }, lastId);
      // The reference: one bare Bun thread writing the same number of bytes as one response.
      const reference = Bun.spawn([process.execPath, '-e', `
        const body = new Uint8Array(${stream.bytes}).fill(121);
        const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(body) });
        console.log(s.port);`], { stdout: 'pipe' });
      const port = await readPort(reference);
      const bare = await timedRead(`http://127.0.0.1:${port}/`, {}, null);
      reference.kill();
      const mbPerSec = stream.bytes / 1e6 / (stream.ms / 1000);
      rows.push({ target, format, messages, mb: stream.bytes / 1e6, ms: stream.ms, mbPerSec, ratio: mbPerSec / (bare.bytes / 1e6 / (bare.ms / 1000)) });
      progress(`${target} ${format}: ${(stream.bytes / 1e6).toFixed(1)} MB in ${stream.ms.toFixed(0)} ms (bare thread: ${bare.ms.toFixed(0)} ms)`);
    }
  } finally {
    await server.stop();
  }
}

/** The port a reference server printed (its first line). */
async function readPort(proc: ReturnType<typeof Bun.spawn>): Promise<number> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let out = '';
  while (!out.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return Number(out.trim());
}

if (values.json) process.stdout.write(`${JSON.stringify({ rows })}\n`);
else {
  process.stdout.write('| target | format | messages | MB | ms | MB/s | vs one bare Bun thread |\n|---|---|---|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.target} | ${r.format} | ${r.messages} | ${r.mb.toFixed(1)} | ${r.ms.toFixed(0)} | ${r.mbPerSec.toFixed(1)} | ${r.ratio.toFixed(2)}x |\n`);
}
process.exit(0);
