/**
 * Where the launcher opens its clients (bin/chat): windows of a GUI terminal when there is a display, else one
 * tmux session with a pane per client.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from './options.ts';
import { say } from './processes.ts';

const ROOT = join(import.meta.dir, '..', '..');
export const CHAT = join(ROOT, 'bin', 'chat');

/** The tmux session the clients run in, as the state file records it. */
export interface TmuxSession { socket: string | null; session: string; panes: number[] }

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** `--tmux-socket NAME` is a name under tmux's own directory (-L); a path (with a slash) is used as is (-S). */
const socketArgs = (socket: string | null) => (socket === null ? [] : socket.includes('/') ? ['-S', socket] : ['-L', socket]);

export function tmux(socket: string | null, ...args: string[]) {
  const run = Bun.spawnSync(['tmux', ...socketArgs(socket), ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { ok: run.exitCode === 0, out: run.stdout.toString().trim(), err: run.stderr.toString().trim() };
}

/**
 * The shell line that runs one client. With --log-dir, util-linux `script` sits between the terminal and the
 * client and copies every byte the terminal is given (what its window shows) to DIR/NAME.log.
 */
function chatLine(options: Options, url: string, name: string): string {
  // A self-signed certificate the launcher's server serves is the one authority its clients need (curl's CA file).
  const trust = options.tls && !options.insecure && selfSigned(options.tls.cert) ? ['env', `CURL_CA_BUNDLE=${options.tls.cert}`] : [];
  const args = [...trust, CHAT, '--url', url, '--room', options.room, '--name', name, ...(options.insecure ? ['--insecure'] : [])];
  const chat = args.map(quote).join(' ');
  if (!options.logDir) return `exec ${chat}`;
  return `exec ${['script', '--quiet', '--flush', '--return', '--command', chat, join(options.logDir, `${name}.log`)].map(quote).join(' ')}`;
}

/** Whether the certificate in `path` signed itself (a local one, made with openssl), so it can be its own CA. */
function selfSigned(path: string): boolean {
  try {
    const cert = new X509Certificate(readFileSync(path));
    return cert.issuer === cert.subject;
  } catch {
    return false; // the server refuses it at start, with a message naming the file
  }
}

/** GUI terminals in order of preference: each one's arguments to run `command` with a window title. */
const TERMINALS: [string, (title: string, command: string[]) => string[]][] = [
  ['terminator', (t, c) => ['-u', '-T', t, '-x', ...c]], // -u: its own process, so ending it closes the window
  ['x-terminal-emulator', (t, c) => ['-T', t, '-e', ...c]],
  ['gnome-terminal', (t, c) => ['--wait', '--title', t, '--', ...c]],
  ['konsole', (t, c) => ['--nofork', '-p', `tabtitle=${t}`, '-e', ...c]],
  ['xterm', (t, c) => ['-T', t, '-e', ...c]],
];

/** Makes --log-dir's directory, or says what is missing. */
export function prepareLogDir(options: Options) {
  if (!options.logDir) return;
  if (!Bun.which('script')) throw new Error('--log-dir needs script(1) from util-linux: install it (apt-get install bsdutils) or drop --log-dir');
  mkdirSync(options.logDir, { recursive: true });
  say(`writing what each client's terminal shows to ${options.logDir}/NAME.log`);
}

export function openTerminals(options: Options, url: string): number[] | null {
  if (options.tmux || !(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) return null;
  const found = TERMINALS.find(([name]) => Bun.which(name));
  if (!found) return null;
  const [program, argsFor] = found;
  say(`opening ${options.count} clients in ${program}`);
  return options.names.map((name) => {
    // One `sh -c` line, never the client's own argv: terminator (GTK) takes a separate `--name NAME` as its own
    // option, so the client lost its name and asked for one.
    const command = argsFor(`threadchat: ${name} in ${options.room}`, ['sh', '-c', chatLine(options, url, name)]);
    return Bun.spawn([program, ...command], { stdin: 'ignore', stdout: 'ignore', stderr: 'inherit' }).pid;
  });
}

export function openTmux(options: Options, url: string): TmuxSession {
  if (!Bun.which('tmux')) {
    throw new Error('no display for a terminal emulator and tmux is not installed: install tmux (apt-get install tmux), or run bin/chat in terminals yourself');
  }
  const { socket, session } = options;
  if (tmux(socket, 'has-session', '-t', `=${session}`).ok) {
    throw new Error(`tmux session ${session} already exists: end it (bun run launch --stop --port ${options.port}, or tmux kill-session -t ${session}) or pick --session`);
  }
  const shell = (name: string) => chatLine(options, url, name);
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
