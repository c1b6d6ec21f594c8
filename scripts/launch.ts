/**
 * `bun run launch -c N`: starts the server unless one answers on the port, opens N `bin/chat` clients (in
 * terminator, else another terminal emulator when there is a display, else one tmux session with N panes), and
 * on Ctrl-C (SIGINT, SIGTERM, SIGHUP) or `--stop` ends what it started and nothing else.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dir, '..');
const CHAT = join(ROOT, 'bin', 'chat');
const MAX_CLIENTS = 50;
const FRIENDLY = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'zoe'];

const HELP = `Usage: bun run launch [-c N] [options]

Starts the threadchat server (unless one already answers on the port) and opens N terminal clients (bin/chat):
in terminator when installed, else x-terminal-emulator, gnome-terminal, konsole or xterm when there is a
display, else one tmux session with N panes. Ctrl-C ends everything it started.

  -c, --count N        clients to open, 1-${MAX_CLIENTS} (default 3, or as many as --names)
  --room R             room to join (default main)
  --names a,b,c        client names (default: alice, bob, carol, ...)
  --port P             server port (default 3000)
  --data DIR           the server's --data directory (default ./data)
  --store S            the server's --store (sqlite | memory | redis://...)
  --no-server          never start a server: fail unless one answers on the port
  --tmux               use tmux even when a display is available
  --session NAME       tmux session name (default threadchat-PORT)
  --tmux-socket NAME   run tmux on its own socket (tmux -L NAME; a path: tmux -S PATH)
  --stop               end the launcher running for --port (its server, clients and tmux session)
  -h, --help           show this help
`;

class UsageError extends Error {}

interface State {
  pid: number;
  url: string;
  /** The server this launcher started (null: it found one running). */
  server: number | null;
  tmux: { socket: string | null; session: string; panes: number[] } | null;
  terminals: number[];
}

type Options = ReturnType<typeof readOptions>;

function readOptions(argv: string[]) {
  // `-c -1` would read as two flags: attach a negative count so it gets the count's own error.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const negative = ['-c', '--count'].includes(argv[i]!) && /^-\d/.test(argv[i + 1] ?? '');
    args.push(negative ? `--count=${argv[++i]}` : argv[i]!);
  }
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      count: { type: 'string', short: 'c' },
      room: { type: 'string', default: 'main' },
      names: { type: 'string' },
      port: { type: 'string', default: process.env.CHAT_PORT ?? '3000' },
      data: { type: 'string' },
      store: { type: 'string' },
      'no-server': { type: 'boolean', default: false },
      tmux: { type: 'boolean', default: false },
      session: { type: 'string' },
      'tmux-socket': { type: 'string' },
      stop: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535 (got "${values.port}")`);
  if (!/^[a-z0-9_-]{1,64}$/.test(values.room)) throw new UsageError(`--room "${values.room}" is not valid: use 1-64 of a-z, 0-9, _ and -`);
  const given = values.names === undefined ? [] : values.names.split(',').map((n) => n.trim());
  for (const n of given) if (!n || n.length > 32) throw new UsageError(`--names: each name needs 1-32 characters (got "${n}")`);
  const raw = values.count ?? String(given.length || 3);
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || count < 1 || count > MAX_CLIENTS) {
    throw new UsageError(`-c must be a whole number from 1 to ${MAX_CLIENTS} (got "${raw}"), e.g. bun run launch -c 3`);
  }
  if (given.length > count) throw new UsageError(`--names lists ${given.length} names but -c is ${count}: drop some names or raise -c`);
  const names = [...given];
  for (let i = 0; names.length < count; i++) {
    const name = FRIENDLY[i % FRIENDLY.length]! + (i >= FRIENDLY.length ? String(Math.floor(i / FRIENDLY.length) + 1) : '');
    if (!names.includes(name)) names.push(name);
  }
  return { ...values, port, count, names, session: values.session ?? `threadchat-${port}`, socket: values['tmux-socket'] ?? null };
}

const say = (line: string) => process.stdout.write(`launch: ${line}\n`);
const statePath = (port: number) => join(tmpdir(), `threadchat-launch-${port}.json`);
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Running, and not a zombie (this machine's init may never reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(readTextOr(`/proc/${pid}/stat`) ?? ''); // without /proc, kill(0) is all we know
}

/** Whether a PID from the state file still runs `what` (not reused by another program); true without /proc. */
const runs = (pid: number, what: string) => alive(pid) && (readTextOr(`/proc/${pid}/cmdline`)?.includes(what) ?? true);
function readTextOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Polls `check` every 100 ms for up to `ms`; says `progress` every 3 s so a long wait is not silent. */
async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, progress?: string): Promise<boolean> {
  const start = Date.now();
  let told = start;
  while (!(await check())) {
    if (Date.now() - start > ms) return false;
    if (progress && Date.now() - told >= 3000) {
      told = Date.now();
      say(`${progress} (${Math.round((told - start) / 1000)} s)...`);
    }
    await Bun.sleep(100);
  }
  return true;
}

/** `--tmux-socket NAME` is a name under tmux's own directory (-L); a path (with a slash) is used as is (-S). */
const socketArgs = (socket: string | null) => (socket === null ? [] : socket.includes('/') ? ['-S', socket] : ['-L', socket]);

function tmux(socket: string | null, ...args: string[]) {
  const run = Bun.spawnSync(['tmux', ...socketArgs(socket), ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { ok: run.exitCode === 0, out: run.stdout.toString().trim(), err: run.stderr.toString().trim() };
}

async function healthy(url: string): Promise<'threadchat' | 'other' | 'none'> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json().catch(() => null)) as { ok?: boolean } | null;
    return res.ok && body?.ok === true ? 'threadchat' : 'other';
  } catch {
    return 'none';
  }
}

/** Starts a server unless one answers; records its PID in `state` at once, so a Ctrl-C while waiting ends it. */
async function ensureServer(options: Options, state: State, save: () => void) {
  const found = await healthy(state.url);
  if (found === 'threadchat') return say(`using the server already answering at ${state.url}/`);
  if (found === 'other') throw new Error(`port ${options.port} answers but is not threadchat: pick another port with --port`);
  if (options['no-server']) throw new Error(`no server answers at ${state.url}/healthz: start one (bun server.ts --port ${options.port}) or drop --no-server`);
  const args = ['--port', String(options.port), '--host', '127.0.0.1'];
  if (options.data) args.push('--data', options.data);
  if (options.store) args.push('--store', options.store);
  say(`starting the server: bun server.ts ${args.join(' ')}`);
  const server = Bun.spawn([process.execPath, join(ROOT, 'server.ts'), ...args], { cwd: ROOT, stdout: 'inherit', stderr: 'inherit' });
  state.server = server.pid;
  save();
  const answered = async () => server.exitCode !== null || (await healthy(state.url)) === 'threadchat';
  const up = await waitUntil(answered, 30_000, 'waiting for the server to answer');
  if (server.exitCode !== null) throw new Error(`the server exited with code ${server.exitCode} before answering (output above): is port ${options.port} taken? try another --port`);
  if (!up) throw new Error(`the server did not answer at ${state.url}/healthz within 30 s (output above)`);
}

const chatCommand = (url: string, room: string, name: string) => [CHAT, '--url', url, '--room', room, '--name', name];

/** GUI terminals in order of preference: each one's arguments to run `command` with a window title. */
const TERMINALS: [string, (title: string, command: string[]) => string[]][] = [
  ['terminator', (t, c) => ['-u', '-T', t, '-x', ...c]], // -u: its own process, so ending it closes the window
  ['x-terminal-emulator', (t, c) => ['-T', t, '-e', ...c]],
  ['gnome-terminal', (t, c) => ['--wait', '--title', t, '--', ...c]],
  ['konsole', (t, c) => ['--nofork', '-p', `tabtitle=${t}`, '-e', ...c]],
  ['xterm', (t, c) => ['-T', t, '-e', ...c]],
];

function openTerminals(options: Options, url: string): number[] | null {
  if (options.tmux || !(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) return null;
  const found = TERMINALS.find(([name]) => Bun.which(name));
  if (!found) return null;
  const [program, argsFor] = found;
  say(`opening ${options.count} clients in ${program}`);
  return options.names.map((name) => {
    const command = argsFor(`threadchat: ${name} in ${options.room}`, chatCommand(url, options.room, name));
    return Bun.spawn([program, ...command], { stdin: 'ignore', stdout: 'ignore', stderr: 'inherit' }).pid;
  });
}

function openTmux(options: Options, url: string): NonNullable<State['tmux']> {
  if (!Bun.which('tmux')) {
    throw new Error('no display for a terminal emulator and tmux is not installed: install tmux (apt-get install tmux), or run bin/chat in terminals yourself');
  }
  const { socket, session } = options;
  if (tmux(socket, 'has-session', '-t', `=${session}`).ok) {
    throw new Error(`tmux session ${session} already exists: end it (bun run launch --stop --port ${options.port}, or tmux kill-session -t ${session}) or pick --session`);
  }
  const shell = (name: string) => `exec ${chatCommand(url, options.room, name).map(quote).join(' ')}`;
  const [first, ...rest] = options.names;
  const created = tmux(socket, 'new-session', '-d', '-s', session, '-x', '200', '-y', '60', '-n', options.room, shell(first!));
  if (!created.ok) throw new Error(`tmux could not create session ${session}: ${created.err}`);
  tmux(socket, 'set-option', '-t', session, 'pane-border-status', 'top');
  tmux(socket, 'select-pane', '-t', `${session}:0.0`, '-T', first!);
  for (const name of rest) {
    // Re-tile after every split: a split needs room, and tiling makes it.
    const split = tmux(socket, 'split-window', '-t', `${session}:0`, '-P', '-F', '#{pane_id}', shell(name));
    if (!split.ok) throw new Error(`tmux could not add a pane for ${name}: ${split.err}`);
    tmux(socket, 'select-pane', '-t', split.out, '-T', name);
    tmux(socket, 'select-layout', '-t', `${session}:0`, 'tiled');
  }
  const panes = tmux(socket, 'list-panes', '-s', '-t', session, '-F', '#{pane_pid}').out.split('\n').map(Number).filter(Boolean);
  say(`${options.count} clients in tmux session ${session}; to see them run:`);
  process.stdout.write(`  ${['tmux', ...socketArgs(socket), 'attach', '-t', session].join(' ')}\n`);
  return { socket, session, panes };
}

/** Ends what a state names: clients first (so they don't report a lost server), then the server. */
async function endAll(state: State) {
  if (state.tmux) {
    tmux(state.tmux.socket, 'kill-session', '-t', `=${state.tmux.session}`);
    await waitUntil(() => !state.tmux!.panes.some(alive), 5000, 'waiting for the clients to end');
  }
  for (const pid of state.terminals) if (runs(pid, CHAT)) process.kill(pid, 'SIGTERM'); // its argv names bin/chat
  await waitUntil(() => !state.terminals.some(alive), 5000, 'waiting for the terminals to close');
  if (state.server !== null && runs(state.server, 'server.ts')) {
    process.kill(state.server, 'SIGTERM');
    if (!(await waitUntil(() => !alive(state.server!), 10_000, 'waiting for the server to shut down'))) process.kill(state.server, 'SIGKILL');
  }
}

async function stopPrevious(port: number) {
  const path = statePath(port);
  if (!existsSync(path)) return say(`nothing to stop: no launcher is recorded for port ${port} (${path}); launched with another --port?`);
  const state = JSON.parse(readFileSync(path, 'utf8')) as State;
  if (runs(state.pid, 'launch')) {
    say(`stopping the launcher (pid ${state.pid})`);
    process.kill(state.pid, 'SIGTERM');
    if (await waitUntil(() => !alive(state.pid), 20_000, 'waiting for the launcher to end what it started')) return;
    process.kill(state.pid, 'SIGKILL');
  }
  say('cleaning up after a launcher that is gone');
  await endAll(state);
  rmSync(path, { force: true });
}

async function main() {
  const options = readOptions(process.argv.slice(2));
  if (options.help) return void process.stdout.write(HELP);
  if (options.stop) return stopPrevious(options.port);
  const path = statePath(options.port);
  if (existsSync(path)) {
    const { pid } = JSON.parse(readFileSync(path, 'utf8')) as State;
    const what = alive(pid) ? `a launcher (pid ${pid}) already runs for port ${options.port}` : `a launcher for port ${options.port} (pid ${pid}) ended without cleaning up`;
    throw new Error(`${what}: run bun run launch --stop --port ${options.port} first`);
  }
  const url = `http://127.0.0.1:${options.port}`;
  const state: State = { pid: process.pid, url, server: null, tmux: null, terminals: [] };
  let ending: Promise<void> | null = null;
  const end = (why: string) => {
    ending ??= (async () => {
      say(`${why}: ending what this launcher started`);
      await endAll(state);
      rmSync(path, { force: true });
      say('done');
      process.exit(0);
    })();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => end(signal));
  const save = () => writeFileSync(path, JSON.stringify(state));
  try {
    await ensureServer(options, state, save);
    save();
    state.terminals = openTerminals(options, url) ?? [];
    if (!state.terminals.length) state.tmux = openTmux(options, url);
    save();
  } catch (error) {
    await endAll(state);
    rmSync(path, { force: true });
    throw error;
  }
  say(`Ctrl-C (or bun run launch --stop --port ${options.port}) ends the clients${state.server ? ' and the server' : ''}`);
  for (let serverGone = false; !ending; await Bun.sleep(1000)) {
    const clientsLeft = state.tmux ? tmux(state.tmux.socket, 'has-session', '-t', `=${state.tmux.session}`).ok : state.terminals.some(alive);
    if (!clientsLeft) return end('every client has quit');
    if (state.server !== null && !serverGone && (serverGone = !alive(state.server))) {
      say(`the server (pid ${state.server}) has exited; the clients keep retrying: start it again with bun server.ts --port ${options.port}, or Ctrl-C`);
    }
  }
}

main().catch((error: unknown) => {
  const usage = error instanceof UsageError || String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`launch: ${error instanceof Error ? error.message : String(error)}\n${usage ? 'Run bun run launch --help to see every option.\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
