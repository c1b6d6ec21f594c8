/**
 * `bun run launch -c N`: starts the server unless one answers on the port, opens N `bin/chat` clients (in
 * terminator, else another terminal emulator when there is a display, else one tmux session with N panes), and
 * on Ctrl-C (SIGINT, SIGTERM, SIGHUP) or `--stop` ends what it started and nothing else. Its parts are in
 * scripts/launch/: the options and --help, the processes it tracks, and the terminals or tmux panes it opens.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELP, readOptions, UsageError, type Options } from './launch/options.ts';
import { alive, runs, say, waitUntil } from './launch/processes.ts';
import { CHAT, openTerminals, openTmux, prepareLogDir, tmux, type TmuxSession } from './launch/terminals.ts';

const ROOT = join(import.meta.dir, '..');

interface State {
  pid: number;
  url: string;
  /** The server this launcher started (null: it found one running). */
  server: number | null;
  tmux: TmuxSession | null;
  terminals: number[];
}

const statePath = (port: number) => join(tmpdir(), `threadchat-launch-${port}.json`);

/**
 * What answers at `url`. The probe does not check the certificate of a server this launcher starts with its own
 * --tls-cert, nor under --insecure; the clients check it as they are told (terminals.ts).
 */
async function healthy(url: string, verify: boolean): Promise<'threadchat' | 'other' | 'none'> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500), tls: { rejectUnauthorized: verify } });
    const body = (await res.json().catch(() => null)) as { ok?: boolean } | null;
    return res.ok && body?.ok === true ? 'threadchat' : 'other';
  } catch {
    return 'none';
  }
}

/** Starts a server unless one answers; records its PID in `state` at once, so a Ctrl-C while waiting ends it. */
async function ensureServer(options: Options, state: State, save: () => void) {
  const verify = !options.insecure && !options.tls;
  const found = await healthy(state.url, verify);
  if (found === 'threadchat') return say(`using the server already answering at ${state.url}/`);
  if (found === 'other') throw new Error(`${state.url} answers but is not threadchat: pick another port with --port`);
  if (options.joinOnly) throw new Error(`no threadchat answers at ${state.url}/healthz: check --url (and --insecure for a certificate this machine does not trust)`);
  if (options['no-server']) throw new Error(`no server answers at ${state.url}/healthz: start one (bun server.ts --port ${options.port}) or drop --no-server`);
  const args = ['--port', String(options.port), '--host', '127.0.0.1'];
  if (options.tls) args.push('--tls-cert', options.tls.cert, '--tls-key', options.tls.key);
  if (options.data) args.push('--data', options.data);
  if (options.store) args.push('--store', options.store);
  say(`starting the server: bun server.ts ${args.join(' ')}`);
  const server = Bun.spawn([process.execPath, join(ROOT, 'server.ts'), ...args], { cwd: ROOT, stdout: 'inherit', stderr: 'inherit' });
  state.server = server.pid;
  save();
  const answered = async () => server.exitCode !== null || (await healthy(state.url, verify)) === 'threadchat';
  const up = await waitUntil(answered, 30_000, 'waiting for the server to answer');
  if (server.exitCode !== null) throw new Error(`the server exited with code ${server.exitCode} before answering (output above): is port ${options.port} taken? try another --port`);
  if (!up) throw new Error(`the server did not answer at ${state.url}/healthz within 30 s (output above)`);
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
  const url = options.url;
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
    prepareLogDir(options);
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
