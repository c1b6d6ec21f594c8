/**
 * Where the launcher opens its clients (bin/chat): windows of a GUI terminal when there is a display, tiled side
 * by side (tiles.ts), else one tmux session with a pane per client. Each client titles its own window or pane
 * (`#room · name`, bin/chat's OSC 0), so the title follows a /nick.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Options } from './options.ts';
import { say } from './processes.ts';
import { characters, pixels, screenSize, tiles, type Tile } from './tiles.ts';

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

/**
 * GUI terminals in order of preference: each one's arguments to run `command` with a first window title, in
 * `tile` of the screen when it can be told where (null: where it or the window manager likes).
 */
type ArgsFor = (title: string, command: string[], tile: Tile | null) => string[];
const TERMINALS: [string, ArgsFor][] = [
  // -u: its own process, so ending it closes the window. No -T: terminator would keep that title for good, and
  // never show the client's own. --geometry is in pixels.
  ['terminator', (_t, c, g) => ['-u', ...(g ? ['--geometry', pixels(g)] : []), '-x', ...c]],
  ['x-terminal-emulator', (t, c) => ['-T', t, '-e', ...c]], // only -T and -e are sure (unless it is one of these)
  // Characters: its default font (Monospace 12) is about 10x20 pixels a cell; the position holds on X only.
  ['gnome-terminal', (t, c, g) => ['--wait', '--title', t, ...(g ? [`--geometry=${characters(g, { width: 10, height: 20 }, 0)}`] : []), '--', ...c]],
  ['konsole', (t, c) => ['--nofork', '-p', `tabtitle=${t}`, '-e', ...c]],
  // Characters of its default font (fixed, 6x13), inside a 2-pixel internal border and a 1-pixel window border.
  ['xterm', (t, c, g) => ['-T', t, ...(g ? ['-geometry', characters(g, { width: 6, height: 13 }, 6)] : []), '-e', ...c]],
];

/** The first terminal on PATH; x-terminal-emulator (Debian's alternatives link) as the one it links to, if known. */
function findTerminal(): { program: string; name: string; argsFor: ArgsFor } | null {
  for (const [name, argsFor] of TERMINALS) {
    const program = Bun.which(name);
    if (!program) continue;
    if (name !== 'x-terminal-emulator') return { program, name, argsFor };
    let real = '';
    try {
      real = realpathSync(program);
    } catch {
      // a dangling link: run it as it is
    }
    const known = TERMINALS.find(([other]) => other !== name && other === basename(real));
    return known ? { program: real, name: `${name} (${known[0]})`, argsFor: known[1] } : { program, name, argsFor };
  }
  return null;
}

/** Makes --log-dir's directory, or says what is missing. */
export function prepareLogDir(options: Options) {
  if (!options.logDir) return;
  if (!Bun.which('script')) throw new Error('--log-dir needs script(1) from util-linux: install it (apt-get install bsdutils) or drop --log-dir');
  mkdirSync(options.logDir, { recursive: true });
  say(`writing what each client's terminal shows to ${options.logDir}/NAME.log`);
}

export function openTerminals(options: Options, url: string): number[] | null {
  if (options.tmux || !(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) return null;
  const found = findTerminal();
  if (!found) return null;
  const { program, name: terminal, argsFor } = found;
  // Side by side on the X screen, a tile each, so that no window opens on top of another.
  const screen = screenSize();
  const places = screen ? tiles(options.count, screen) : null;
  const layout = places ? `, side by side in tiles of ${places[0]!.width}x${places[0]!.height} of the ${screen!.width}x${screen!.height} screen` : '';
  say(`opening ${options.count} clients in ${terminal}${layout}`);
  if (!places && process.env.DISPLAY) say('cannot read the screen size (xdpyinfo or xwininfo: apt-get install x11-utils), so the windows open where the window manager puts them');
  return options.names.map((name, i) => {
    // One `sh -c` line, never the client's own argv: terminator (GTK) takes a separate `--name NAME` as its own
    // option, so the client lost its name and asked for one. The title is the one bin/chat sets itself.
    const command = argsFor(`#${options.room} · ${name}`, ['sh', '-c', chatLine(options, url, name)], places?.[i] ?? null);
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
  // The title each client gives its pane (bin/chat's OSC 0), set here too in case the pane shows before it does.
  const title = (name: string) => `#${options.room} · ${name}`;
  const [first, ...rest] = options.names;
  const created = tmux(socket, 'new-session', '-d', '-s', session, '-x', '200', '-y', '60', '-n', options.room, shell(first!));
  if (!created.ok) throw new Error(`tmux could not create session ${session}: ${created.err}`);
  tmux(socket, 'set-option', '-t', session, 'pane-border-status', 'top');
  tmux(socket, 'select-pane', '-t', `${session}:0.0`, '-T', title(first!));
  for (const name of rest) {
    // Re-tile after every split: a split needs room, and tiling makes it.
    const split = tmux(socket, 'split-window', '-t', `${session}:0`, '-P', '-F', '#{pane_id}', shell(name));
    if (!split.ok) throw new Error(`tmux could not add a pane for ${name}: ${split.err}`);
    tmux(socket, 'select-pane', '-t', split.out, '-T', title(name));
    tmux(socket, 'select-layout', '-t', `${session}:0`, 'tiled');
  }
  const panes = tmux(socket, 'list-panes', '-s', '-t', session, '-F', '#{pane_pid}').out.split('\n').map(Number).filter(Boolean);
  say(`${options.count} clients in tmux session ${session}; to see them run:`);
  process.stdout.write(`  ${['tmux', ...socketArgs(socket), 'attach', '-t', session].join(' ')}\n`);
  return { socket, session, panes };
}
