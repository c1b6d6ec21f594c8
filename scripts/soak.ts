/**
 * `bun run soak`: N clients chat in one room for T seconds, each keeping an SSE stream that it drops and resumes
 * with Last-Event-ID at random, then the run checks that every acknowledged message reached every other client
 * exactly once and in order. Loopback only; bounded in clients, time and settling; it stops the server it
 * started (by PID) on exit, on Ctrl-C and on error. One file on purpose (options, server, clients, tally), so the
 * command has no parts elsewhere to keep in step; that is why it runs past 300 lines.
 */
import { createParser } from 'eventsource-parser';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareIds } from '../store/types.ts';

const ROOT = join(import.meta.dir, '..');
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const HELP = `Usage: bun run soak [options]

Starts a threadchat server of its own (a temporary --data dir, a free port) unless --url names a running one,
then runs N clients for T seconds in one room. Each client keeps an SSE stream, posts random messages at random
intervals with its own client id, and drops and resumes its stream with Last-Event-ID at random. Then it stops
posting, reconnects everyone and waits (up to --settle seconds) for delivery to finish, and prints:

  result: sent=… acked=… delivered=… expected=… lost=N duplicates=N reordered=N echoed=N reconnects=…

lost: an acknowledged (201) message that a client that should have seen it never got (clients do not get their
own; after a resume a client must get everything after its Last-Event-ID); duplicates: a message a client got
twice; reordered: one that came after a later id; echoed: a client's own message sent back to it.
Exit status 0 when all four are 0, 1 when not, 2 for bad options, 3 when the run could not be done.
Progress goes to stderr once a second.

  -c, --clients N     clients, 2-200 (default 20)
  -t, --seconds T     seconds of posting, 1-3600 (default 20)
  --rate R            messages per second per client, on average (default 1)
  --drops R           stream drops per minute per client, on average (default 6)
  --settle S          seconds to wait for delivery after posting stops, 1-120 (default 15)
  --room R            room (default: a new soak-… room per run)
  --url URL           use the server at URL (127.0.0.1, localhost or [::1] only) instead of starting one
  --store S           the started server's --store (default sqlite)
  --token T           send "Authorization: Bearer T" (for a server run with --token)
  -h, --help          show this help
`;

class UsageError extends Error {}

function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      clients: { type: 'string', short: 'c', default: '20' },
      seconds: { type: 'string', short: 't', default: '20' },
      rate: { type: 'string', default: '1' },
      drops: { type: 'string', default: '6' },
      settle: { type: 'string', default: '15' },
      room: { type: 'string' },
      url: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const num = (name: keyof typeof values, min: number, max: number, whole = true) => {
    const raw = String(values[name]);
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || (whole && !Number.isInteger(n)) || n < min || n > max) {
      throw new UsageError(`--${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  };
  const room = values.room ?? `soak-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  if (!/^[a-z0-9_-]{1,64}$/.test(room)) throw new UsageError(`--room "${room}" is not valid: use 1-64 of a-z, 0-9, _ and -`);
  let url: string | null = null;
  if (values.url !== undefined) {
    const parsed = URL.canParse(values.url) ? new URL(values.url) : null;
    if (!parsed || !/^https?:$/.test(parsed.protocol)) throw new UsageError(`--url "${values.url}" is not an http URL`);
    if (!LOOPBACK.has(parsed.hostname)) throw new UsageError(`--url must be on this machine (127.0.0.1, localhost, [::1]); got ${parsed.hostname}`);
    url = parsed.origin;
  }
  return {
    help: values.help,
    clients: num('clients', 2, 200),
    seconds: num('seconds', 1, 3600),
    rate: num('rate', 0.01, 50, false),
    drops: num('drops', 0, 600, false),
    settle: num('settle', 1, 120),
    room, url, store: values.store, token: values.token,
  };
}
type Options = ReturnType<typeof readOptions>;

/** The server this run started: killed by its PID, never by name. */
interface OwnServer { url: string; stop(): Promise<void> }

async function startServer(options: Options): Promise<OwnServer> {
  const data = mkdtempSync(join(tmpdir(), 'threadchat-soak-'));
  const proc = Bun.spawn([process.execPath, join(ROOT, 'server.ts'), '--port', '0', '--host', '127.0.0.1', '--data', data, '--store', options.store, '--log', 'silent'], {
    cwd: ROOT,
    // A soak measures delivery, not the flood limits: lift them on the server it owns.
    env: { ...process.env, CHAT_POST_RATE: '0', CHAT_POST_RATE_IP: '0', CHAT_MAX_STREAMS_PER_IP: String(Math.max(100, options.clients * 4)), CHAT_TOKEN: options.token ?? '' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += new TextDecoder().decode(chunk);
  };
  void pump(proc.stdout).catch(() => {});
  void pump(proc.stderr).catch(() => {});
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await proc.exited;
      clearTimeout(killer);
    }
    rmSync(data, { recursive: true, force: true });
  })());
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = out.match(/listening on (http:\/\/[^\s]+?:\d+)\//);
    if (match) return { url: match[1]!, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not start (${proc.exitCode === null ? 'no URL within 15 s' : `exit ${proc.exitCode}`}):\n${out}`);
    }
    await Bun.sleep(25);
  }
}

const WORDS = ['hello', 'soak', 'ok', 'ça va', '😀', 'line\nbreak', 'tab\there', '<b>x</b>', '&amp;', 'event: bye', 'data: x', 'id: 9'];
const randomText = (tag: string) => {
  const n = 1 + Math.floor(Math.random() * (Math.random() < 0.05 ? 300 : 8));
  return `${tag} ${Array.from({ length: n }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ')}`;
};
/** An exponentially distributed wait with the given mean: a Poisson process of posts or drops. */
const poisson = (meanMs: number) => -Math.log(1 - Math.random()) * meanMs;

interface Client {
  index: number;
  id: string;
  /** Highest message id this client received (null: none yet); a resume asks for everything after it. */
  lastId: string | null;
  seen: Set<string>;
  duplicates: number;
  reordered: number;
  connected: boolean;
  connects: number;
  abort: AbortController | null;
}

/** One stream connection: resolves when it ends (dropped by us or ended by the server); throws when refused. */
async function stream(base: string, room: string, client: Client, resumeFrom: string, auth: Record<string, string>) {
  const abort = (client.abort = new AbortController());
  const first = client.connects++ === 0;
  // The first connect is a plain one (recent history); every later one resumes after what this client saw, or
  // after the room's last message at the start when it has seen nothing yet.
  const headers: Record<string, string> = { Accept: 'text/event-stream', 'X-Client-Id': client.id, ...auth };
  if (!first) headers['Last-Event-ID'] = client.lastId ?? resumeFrom;
  const res = await fetch(`${base}/rooms/${room}/events?name=soak-${client.index}`, { headers, signal: abort.signal });
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const parser = createParser({
    onRetry: () => void (client.connected = true), // the first frame of every stream
    onEvent: (e) => {
      if (e.event !== undefined || e.id === undefined) return; // presence and the other named events
      if (client.seen.has(e.id)) client.duplicates++;
      else if (client.lastId !== null && compareIds(e.id, client.lastId) < 0) client.reordered++;
      client.seen.add(e.id);
      if (client.lastId === null || compareIds(e.id, client.lastId) > 0) client.lastId = e.id;
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as ReadableStream<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } finally {
    client.connected = false;
  }
}

interface Run {
  options: Options;
  base: string;
  auth: Record<string, string>;
  clients: Client[];
  /** The room's last id before the run (0 when empty): where a client that saw nothing yet resumes. */
  resumeFrom: string;
  streaming: boolean;
  postUntil: number;
  sent: number;
  acked: { id: string; from: number }[];
  refused: number;
  failed: number;
  reconnects: number;
  problems: string[];
}

/** Keeps a client's stream open until the run ends: after a drop or an end it resumes, after a refusal it backs off. */
async function keepStream(run: Run, client: Client) {
  let backoff = 100;
  while (run.streaming) {
    try {
      await stream(run.base, run.options.room, client, run.resumeFrom, run.auth);
      backoff = 100;
    } catch (error) {
      if (!client.abort?.signal.aborted) {
        if (run.problems.length < 20) run.problems.push(`client ${client.index}: ${String(error)}`);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    if (!run.streaming) return;
    run.reconnects++;
    await Bun.sleep(Math.random() * backoff);
  }
}

/** Drops the client's stream now and then while posting lasts, as a flaky network or a hidden tab would. */
async function dropper(run: Run, client: Client) {
  if (run.options.drops === 0) return;
  while (Date.now() < run.postUntil) {
    await Bun.sleep(Math.min(poisson(60_000 / run.options.drops), Math.max(0, run.postUntil - Date.now())));
    if (Date.now() < run.postUntil && client.connected) client.abort?.abort();
  }
}

async function poster(run: Run, client: Client) {
  let seq = 0;
  while (Date.now() < run.postUntil) {
    await Bun.sleep(Math.min(poisson(1000 / run.options.rate), Math.max(0, run.postUntil - Date.now())));
    if (Date.now() >= run.postUntil) return;
    run.sent++;
    const res = await fetch(`${run.base}/rooms/${run.options.room}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Client-Id': client.id, ...run.auth },
      body: JSON.stringify({ name: `soak-${client.index}`, text: randomText(`c${client.index}#${++seq}`) }),
    }).catch((error) => String(error));
    if (typeof res === 'string') {
      run.failed++;
      if (run.problems.length < 20) run.problems.push(`client ${client.index} post: ${res}`);
    } else if (res.status === 201) {
      run.acked.push({ id: ((await res.json()) as { id: string }).id, from: client.index });
    } else {
      const body = await res.text();
      if (res.status === 429 || res.status === 503) {
        run.refused++; // the server's flood limits (a --url server keeps its own): wait as told
        await Bun.sleep(Math.min(Number(res.headers.get('retry-after') ?? 1) * 1000, Math.max(0, run.postUntil - Date.now())));
      } else {
        run.failed++;
        if (run.problems.length < 20) run.problems.push(`client ${client.index} post answered ${res.status}: ${body.slice(0, 200)}`);
      }
    }
  }
}

/** Who should have got what: every acknowledged message at every client but its sender. */
function tally(run: Run) {
  let delivered = 0;
  let lost = 0;
  let echoed = 0;
  const missing: string[] = [];
  for (const m of run.acked) {
    for (const c of run.clients) {
      if (c.index === m.from) {
        if (c.seen.has(m.id)) echoed++;
      } else if (c.seen.has(m.id)) delivered++;
      else {
        lost++;
        if (missing.length < 10) missing.push(`message ${m.id} (from client ${m.from}) never reached client ${c.index} (last id ${c.lastId}, ${c.connects} connects)`);
      }
    }
  }
  const sum = (f: (c: Client) => number) => run.clients.reduce((n, c) => n + f(c), 0);
  return { delivered, expected: run.acked.length * (run.clients.length - 1), lost, echoed, duplicates: sum((c) => c.duplicates), reordered: sum((c) => c.reordered), missing };
}

/** Polls `check` every 50 ms until it holds or `ms` pass; returns whether it held. */
async function until(check: () => boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

async function soak(options: Options, base: string, stderr: (line: string) => void) {
  const auth: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  const tail = await fetch(`${base}/rooms/${options.room}/messages?limit=1`, { headers: auth });
  if (tail.status !== 200) throw new Error(`GET /rooms/${options.room}/messages answered ${tail.status}: ${await tail.text()}`);
  const last = ((await tail.json()) as { messages: { id: string }[] }).messages.at(-1);
  const tag = Math.random().toString(36).slice(2, 8);
  const clients: Client[] = Array.from({ length: options.clients }, (_, index) => ({
    index, id: `soak-${tag}-${index}`, lastId: null, seen: new Set(), duplicates: 0, reordered: 0, connected: false, connects: 0, abort: null,
  }));
  const run: Run = {
    options, base, auth, clients, resumeFrom: last?.id ?? '0', streaming: true, postUntil: 0,
    sent: 0, acked: [], refused: 0, failed: 0, reconnects: 0, problems: [],
  };
  const keepers = clients.map((c) => keepStream(run, c));
  const started = Date.now();
  const progress = setInterval(() => {
    const t = tally(run);
    const open = clients.filter((c) => c.connected).length;
    stderr(`soak ${Math.round((Date.now() - started) / 1000)} s: sent ${run.sent} acked ${run.acked.length} delivered ${t.delivered}/${t.expected} streams ${open}/${clients.length} reconnects ${run.reconnects}`);
  }, 1000);
  try {
    if (!(await until(() => clients.every((c) => c.connected), 15_000))) throw new Error(`only ${clients.filter((c) => c.connected).length} of ${clients.length} streams opened within 15 s: ${run.problems.join('; ')}`);
    run.postUntil = Date.now() + options.seconds * 1000;
    await Promise.all(clients.flatMap((c) => [poster(run, c), dropper(run, c)]));
    // Settle: everyone back online, and every message everywhere it belongs, or the deadline.
    await until(() => {
      const t = tally(run);
      return clients.every((c) => c.connected) && t.lost === 0;
    }, options.settle * 1000);
  } finally {
    clearInterval(progress);
    run.streaming = false;
    for (const c of clients) c.abort?.abort();
    await Promise.all(keepers);
  }
  return { run, result: tally(run) };
}

async function main() {
  let options: Options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${error instanceof UsageError || error instanceof TypeError ? error.message : String(error)}\nRun with --help to see every option.\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let server: OwnServer | null = null;
  const stopServer = async () => server?.stop();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`soak: ${signal}, stopping\n`);
      void stopServer().finally(() => process.exit(130));
    });
  }
  try {
    server = options.url ? null : await startServer(options);
    const base = options.url ?? server!.url;
    const where = options.url ? `server ${base}` : `own server ${base} (${options.store}, pid-owned)`;
    process.stdout.write(`soak: ${options.clients} clients for ${options.seconds} s in room ${options.room} on ${where}\n`);
    const { run, result } = await soak(options, base, (line) => process.stderr.write(line + '\n'));
    for (const line of [...run.problems, ...result.missing]) process.stderr.write(`soak: ${line}\n`);
    process.stdout.write(
      `result: sent=${run.sent} acked=${run.acked.length} refused=${run.refused} failed=${run.failed} delivered=${result.delivered} ` +
        `expected=${result.expected} lost=${result.lost} duplicates=${result.duplicates} reordered=${result.reordered} echoed=${result.echoed} ` +
        `reconnects=${run.reconnects}\n`,
    );
    const ok = result.lost === 0 && result.duplicates === 0 && result.reordered === 0 && result.echoed === 0 && run.acked.length > 0;
    if (run.acked.length === 0) process.stderr.write('soak: no message was acknowledged; nothing was tested\n');
    return ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    await stopServer();
  }
}

process.exit(await main());
