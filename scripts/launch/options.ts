/** The launcher's command line: its --help, and its options read and checked. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { roomSchema } from '../../lib/input.ts';

const MAX_CLIENTS = 50;
const FRIENDLY = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'zoe'];

export const HELP = `Usage: bun run launch [-c N] [options]

Starts the threadchat server (unless one already answers on the port) and opens N terminal clients (bin/chat):
in terminator when installed, else x-terminal-emulator, gnome-terminal, konsole or xterm when there is a
display, side by side (a tile of the screen each, in columns, then rows), else one tmux session with N panes.
Each client titles its window or pane "#ROOM · NAME". Ctrl-C ends everything it started.

  -c, --count N        clients to open, 1-${MAX_CLIENTS} (default 3, or as many as --names)
  --room R             room to join (default main)
  --names a,b,c        client names (default: alice, bob, carol, ...)
  --port P             server port (default 3000)
  --data DIR           the server's --data directory (default ./data)
  --store S            the server's --store (sqlite | memory | redis://...)
  --tls-cert FILE      the server serves HTTPS (HTTP/2) with this certificate (and --tls-key FILE, its key);
                       its clients trust a self-signed one without --insecure
  --url URL            join the server at URL (e.g. https://chat.example:8443) instead of starting one
  --insecure           clients accept a certificate they cannot verify (bin/chat --insecure)
  --log-dir DIR        also write what each client's terminal shows to DIR/NAME.log (util-linux script)
  --no-server          never start a server: fail unless one answers on the port
  --tmux               use tmux even when a display is available
  --session NAME       tmux session name (default threadchat-PORT)
  --tmux-socket NAME   run tmux on its own socket (tmux -L NAME; a path: tmux -S PATH)
  --stop               end the launcher running for --port (its server, clients and tmux session)
  -h, --help           show this help
`;

export class UsageError extends Error {}

export type Options = ReturnType<typeof readOptions>;

export function readOptions(argv: string[]) {
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
      'log-dir': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      url: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'no-server': { type: 'boolean', default: false },
      tmux: { type: 'boolean', default: false },
      session: { type: 'string' },
      'tmux-socket': { type: 'string' },
      stop: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  let url: URL | null = null;
  if (values.url !== undefined) {
    url = URL.canParse(values.url) ? new URL(values.url) : null;
    if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--url "${values.url}" is not an http(s) URL, e.g. https://127.0.0.1:3000`);
    if (values['tls-cert'] || values['tls-key']) throw new UsageError('--url joins a running server: --tls-cert and --tls-key are for a server the launcher starts');
  }
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
  // The port the state file is kept under: the URL's own, or --port.
  const portText = url ? url.port || (url.protocol === 'https:' ? '443' : '80') : values.port;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535 (got "${portText}")`);
  if (!roomSchema.safeParse(values.room).success) throw new UsageError(`--room "${values.room}" is not valid: use 1-64 letters (of any script), digits, _ or -`);
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
  const logDir = values['log-dir'] === undefined ? null : resolve(values['log-dir']);
  const tls = values['tls-cert'] ? { cert: resolve(values['tls-cert']), key: resolve(values['tls-key']!) } : null;
  const base = url ? url.origin : `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return { ...values, port, count, names, logDir, tls, url: base, joinOnly: url !== null, session: values.session ?? `threadchat-${port}`, socket: values['tmux-socket'] ?? null };
}
