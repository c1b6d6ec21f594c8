/**
 * Every setting, read once from flags and environment into a frozen object. A flag beats its env var, which
 * beats its fallback variable (PORT, REDIS_URL), which beats the default. `--help` prints this table.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isLogLevel, type LogMode } from './logger.ts';
import { trustListProblem } from './ip-address.ts';
import { publicUrlProblem } from './public-url.ts';
import { ACCESS_LEVELS, type AccessLevel } from './identity.ts';

type Kind = 'int' | 'string' | 'bool';
interface OptionSpec {
  env: string;
  /** A variable read only when `env` is unset or empty (PORT, as hosting platforms set it; REDIS_URL). */
  fallbackEnv?: string;
  kind: Kind;
  default: string | number | boolean;
  help: string;
  /** Returns an error message for a bad number. */
  check?: (value: number) => string | null;
  /** For a string option that takes only some values: a type guard (so Config gives the option their union) and what to say otherwise. */
  accepts?: { is: (value: string) => boolean; problem: string };
  /** For a string option read as a list: what is wrong with the value (naming the bad entry), or null. */
  checkText?: (value: string) => string | null;
}

/** Where messages are kept: a backend's name, or the URL of a Redis. */
export type StoreSetting = 'sqlite' | 'memory' | `redis://${string}` | `rediss://${string}`;
const isStoreSetting = (v: string): v is StoreSetting => /^(sqlite|memory|rediss?:\/\/.+)$/.test(v);
/** `''`: chosen at start, by whether stdout is a terminal. */
const LOG_SETTINGS = ['', 'pretty', 'json', 'silent'] as const satisfies readonly ('' | LogMode)[];
const isLogSetting = (v: string): v is (typeof LOG_SETTINGS)[number] => (LOG_SETTINGS as readonly string[]).includes(v);
const isSync = (v: string): v is 'full' | 'normal' => v === 'full' || v === 'normal';
/** `''`: open, or token when a token is given (resolved by loadConfig, so a loaded config never holds ''). */
const AUTH_SETTINGS = ['', 'open', 'token', 'accounts', 'jwt'] as const;
export type AuthMode = Exclude<(typeof AUTH_SETTINGS)[number], ''>;
const isAuthSetting = (v: string): v is (typeof AUTH_SETTINGS)[number] => (AUTH_SETTINGS as readonly string[]).includes(v);
const isAccessLevel = (v: string): v is AccessLevel => (ACCESS_LEVELS as readonly string[]).includes(v);
/** The signing algorithms `--jwt-alg` may name: one of them is accepted (lib/jwt.ts); `''`: not set. */
export const JWT_ALGS = ['RS256', 'ES256', 'EdDSA', 'HS256'] as const;
export type JwtAlg = (typeof JWT_ALGS)[number];
const isJwtAlgSetting = (v: string): v is JwtAlg | '' => v === '' || (JWT_ALGS as readonly string[]).includes(v);

const DURATION_UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** `30m`, `12h`, `7d` in milliseconds, or null when it is not such a duration. */
export function durationMs(text: string): number | null {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  return match ? Number(match[1]) * DURATION_UNITS[match[2] as keyof typeof DURATION_UNITS] : null;
}
const durationProblem = (v: string) => (durationMs(v) ? null : 'must be a duration such as 30m, 12h or 7d');

/** The longest path a unix socket can have on Linux: `sun_path` holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** `--listen`'s unix socket path, or null for TCP on --host and --port. */
export function unixSocketOf(listen: string): string | null {
  return listen.startsWith('unix:') ? listen.slice('unix:'.length) : null;
}
function listenProblem(value: string): string | null {
  if (value === '') return null;
  const path = unixSocketOf(value);
  if (path === null || !path.startsWith('/') || path.endsWith('/') || path.includes('\0')) {
    return 'must be unix: and the absolute path of a socket file, e.g. unix:/run/threadchat/chat.sock (or empty for TCP on --host and --port)';
  }
  const bytes = Buffer.byteLength(path);
  return bytes > MAX_SOCKET_PATH_BYTES ? `the socket path is ${bytes} bytes; a unix socket's path may have ${MAX_SOCKET_PATH_BYTES} at most` : null;
}

/** A shared token shorter than this is refused at start: it could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

const positive = (max: number) => (v: number) => (v >= 1 && v <= max ? null : `must be a whole number from 1 to ${max}`);

export const OPTIONS = {
  port: { env: 'CHAT_PORT', kind: 'int', default: 3000, fallbackEnv: 'PORT', help: 'TCP port to listen on (0: any free port); PORT also works', check: (v: number) => (v >= 0 && v <= 65535 ? null : 'must be 0..65535') },
  host: { env: 'CHAT_HOST', kind: 'string', default: '127.0.0.1', help: 'address to listen on (0.0.0.0 for every interface)' },
  listen: { env: 'CHAT_LISTEN', kind: 'string', default: '', help: 'unix:/path/to.sock: listen on a unix socket (mode 0660) instead of --host and --port, for a reverse proxy on this machine; its peers count as 127.0.0.1 for --trust-proxy (empty: TCP on --host and --port)', checkText: listenProblem },
  'public-url': { env: 'CHAT_PUBLIC_URL', kind: 'string', default: '', help: 'the URLs people reach the server by, comma-separated, e.g. https://chat.example.com (behind a proxy, its public ones): their host names are answered and their origins may post; loopback names always are (empty: on a loopback --host, loopback names only)', checkText: publicUrlProblem },
  'tls-cert': { env: 'CHAT_TLS_CERT', kind: 'string', default: '', help: 'PEM certificate file: serve HTTPS, with HTTP/2 and HTTP/1.1 on the port (needs --tls-key)' },
  'tls-key': { env: 'CHAT_TLS_KEY', kind: 'string', default: '', help: 'PEM private key file of --tls-cert' },
  data: { env: 'CHAT_DATA', kind: 'string', default: './data', help: 'directory of the SQLite file' },
  store: { env: 'CHAT_STORE', kind: 'string', default: 'sqlite', fallbackEnv: 'REDIS_URL', help: 'sqlite | memory | redis://host:port/db (REDIS_URL also works)', accepts: { is: isStoreSetting, problem: 'must be sqlite, memory or a redis:// URL' } },
  sync: { env: 'CHAT_SYNC', kind: 'string', default: 'full', help: 'SQLite commits: full (fsync: survives power loss) | normal (survives a crash)', accepts: { is: isSync, problem: 'must be full or normal' } },
  history: { env: 'CHAT_HISTORY', kind: 'int', default: 100, help: 'messages replayed to a new stream', check: (v: number) => (v >= 0 && v <= 10_000 ? null : 'must be 0..10000') },
  retention: { env: 'CHAT_RETENTION', kind: 'int', default: 10_000, help: 'messages kept per room', check: positive(10_000_000) },
  'max-streams': { env: 'CHAT_MAX_STREAMS', kind: 'int', default: 5000, help: 'open streams (Workers) allowed at once; more get 503', check: positive(100_000) },
  warm: { env: 'CHAT_WARM', kind: 'int', default: 16, help: 'idle stream Workers started at launch and kept ready (more when connects come faster)', check: (v: number) => (v >= 1 && v <= 100_000 ? null : 'must be a whole number from 1 to 100000') },
  'max-connecting': { env: 'CHAT_MAX_CONNECTING', kind: 'int', default: 256, help: 'streams at once still waiting for their Worker to start; more get 503 with Retry-After', check: positive(100_000) },
  heartbeat: { env: 'CHAT_HEARTBEAT_MS', kind: 'int', default: 15_000, help: 'milliseconds between keep-alive comments on a stream (1000 at the least)',
    // A following Worker runs its timers about once a second (it sleeps on the room's word in between), so a shorter
    // interval would not be kept: refused rather than silently stretched.
    check: (v: number) => (v >= 1000 && v <= 3_600_000 ? null : 'must be from 1000 to 3600000 ms: a stream\'s Worker keeps no shorter beat') },
  'slow-ms': { env: 'CHAT_SLOW_MS', kind: 'int', default: 10_000, help: 'a stream whose buffer stays full this long is dropped', check: positive(3_600_000) },
  'max-streams-per-ip': { env: 'CHAT_MAX_STREAMS_PER_IP', kind: 'int', default: 100, help: 'open streams allowed from one IP address; more get 503', check: positive(100_000) },
  'post-rate': { env: 'CHAT_POST_RATE', kind: 'int', default: 5, help: 'messages per second one client id may keep posting (0: no limit)', check: (v: number) => (v <= 100_000 ? null : 'must be 0..100000') },
  'post-burst': { env: 'CHAT_POST_BURST', kind: 'int', default: 20, help: 'messages one client id may post at once before post-rate applies', check: positive(100_000) },
  'post-rate-ip': { env: 'CHAT_POST_RATE_IP', kind: 'int', default: 50, help: 'messages per second one IP address may keep posting (0: no limit)', check: (v: number) => (v <= 1_000_000 ? null : 'must be 0..1000000') },
  'post-burst-ip': { env: 'CHAT_POST_BURST_IP', kind: 'int', default: 200, help: 'messages one IP address may post at once', check: positive(1_000_000) },
  'body-timeout': { env: 'CHAT_BODY_TIMEOUT_MS', kind: 'int', default: 10_000, help: 'milliseconds a client may take to send a message body (then 408)', check: positive(600_000) },
  'quota-bytes-day': { env: 'CHAT_QUOTA_BYTES_DAY', kind: 'int', default: 10_485_760, help: 'bytes of message text (UTF-8) one identity (an account, or an address for the anonymous) may post a day, refilled as the day goes; more get 429; admins are exempt (0: no quota)', check: (v: number) => (v <= 1_000_000_000_000 ? null : 'must be 0..1000000000000') },
  'quota-rooms-hour': { env: 'CHAT_QUOTA_ROOMS_HOUR', kind: 'int', default: 60, help: 'new rooms (a post into a room without messages) one identity may open an hour; more get 429, posts into rooms that have messages go on; admins are exempt (0: no quota)', check: (v: number) => (v <= 1_000_000 ? null : 'must be 0..1000000') },
  'trust-proxy': { env: 'CHAT_TRUST_PROXY', kind: 'string', default: '', help: 'addresses and CIDRs of reverse proxies whose X-Forwarded-For / Forwarded (and -Proto) are believed, e.g. 127.0.0.1,10.0.0.0/8,::1 (empty: none)', checkText: trustListProblem },
  auth: { env: 'CHAT_AUTH', kind: 'string', default: '', help: 'who may do what: open (anyone reads and posts) | token (one shared secret) | accounts (names and passwords: bun run user) | jwt (tokens another application issues); default open, or token with --token', accepts: { is: isAuthSetting, problem: 'must be open, token, accounts or jwt' } },
  'default-access': { env: 'CHAT_DEFAULT_ACCESS', kind: 'string', default: 'deny', help: 'accounts and jwt modes: what people not signed in may do in every room: read-write | read-only | deny', accepts: { is: isAccessLevel, problem: 'must be read-write, read-only or deny' } },
  'session-idle': { env: 'CHAT_SESSION_IDLE', kind: 'string', default: '7d', help: 'a browser session unused this long ends (30m, 12h, 7d)', checkText: durationProblem },
  'session-max': { env: 'CHAT_SESSION_MAX', kind: 'string', default: '30d', help: 'a browser session ends this long after its sign-in, used or not', checkText: durationProblem },
  token: { env: 'CHAT_TOKEN', kind: 'string', default: '', help: 'shared secret (at least 16 characters): when set, posting, streaming and reading need it (Bearer header or the page sign-in)' },
  'token-file': { env: 'CHAT_TOKEN_FILE', kind: 'string', default: '', help: 'read the token from this file at start (trailing newline dropped), so it is not in ps or the shell history' },
  'jwt-key': { env: 'CHAT_JWT_KEY', kind: 'string', default: '', help: 'jwt mode, required: the key file tokens are checked with: a PEM public key (RS256, ES256, EdDSA) or a shared secret of 32 bytes or more (HS256; one trailing newline dropped)' },
  'jwt-alg': { env: 'CHAT_JWT_ALG', kind: 'string', default: '', help: 'jwt mode, required: the one signing algorithm accepted: RS256 | ES256 | EdDSA | HS256', accepts: { is: isJwtAlgSetting, problem: 'must be RS256, ES256, EdDSA or HS256' } },
  'jwt-audience': { env: 'CHAT_JWT_AUDIENCE', kind: 'string', default: '', help: 'jwt mode: when set, a token must carry it in its aud claim (empty: aud not checked)' },
  'jwt-issuer': { env: 'CHAT_JWT_ISSUER', kind: 'string', default: '', help: 'jwt mode: when set, the iss claim of a token must be exactly it (empty: iss not checked)' },
  log: { env: 'CHAT_LOG', kind: 'string', default: '', help: 'pretty | json | silent (default: pretty on a terminal, json otherwise)', accepts: { is: isLogSetting, problem: 'must be pretty, json or silent' } },
  'log-level': { env: 'CHAT_LOG_LEVEL', kind: 'string', default: 'info', help: 'debug | info | warn | error: the least severe events logged (debug adds one line per request)', accepts: { is: isLogLevel, problem: 'must be debug, info, warn or error' } },
  'log-messages': { env: 'CHAT_LOG_MESSAGES', kind: 'bool', default: false, help: 'log every posted message with its text at info (off: message text is never logged)' },
  faults: { env: 'CHAT_FAULTS', kind: 'bool', default: false, help: 'test hook: honour ?fault=throw and ?fault=stall on streams (never in production)' },
} satisfies Record<string, OptionSpec>;

type Options = typeof OPTIONS;
/** An option's type: number, boolean, the union its `accepts` guard admits, or string. */
type ValueOf<K extends keyof Options> = Options[K]['kind'] extends 'int'
  ? number
  : Options[K]['kind'] extends 'bool'
    ? boolean
    : Options[K] extends { accepts: { is: (v: string) => v is infer T extends string } }
      ? T
      : string;
/** `auth` is resolved at load (never ''): see authMode. */
export type Config = Readonly<Omit<{ [K in keyof Options]: ValueOf<K> }, 'auth'> & { auth: AuthMode }>;

/** What a boolean variable may say (a bare flag is true). */
const BOOLEANS: Record<string, boolean> = { '1': true, true: true, yes: true, on: true, '0': false, false: false, no: false, off: false };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function helpText(command = 'bun server.ts'): string {
  const rows = Object.entries(OPTIONS).map(([name, o]) => {
    const flag = o.kind === 'bool' ? `--${name}` : `--${name} ${o.kind === 'int' ? 'N' : 'VALUE'}`;
    return `  ${flag.padEnd(22)} ${o.help}\n  ${''.padEnd(22)} env ${o.env}, default ${JSON.stringify(o.default)}`;
  });
  return `Usage: ${command} [options]\n\nthreadchat: POST messages in, Server-Sent Events out, one Worker per stream.\n\nOptions:\n${rows.join('\n')}\n  --help                 show this help\n`;
}

/** Reads flags and env; throws ConfigError naming the option and the accepted values. */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.kind === 'bool' ? 'boolean' : 'string' }])),
    } as Record<string, { type: 'string' | 'boolean'; short?: string }>,
    strict: true,
    allowPositionals: false,
  });
  const config: Record<string, unknown> = { help: values.help === true };
  for (const [name, spec] of Object.entries(OPTIONS) as [keyof Options, OptionSpec][]) {
    // A flag, then the option's variable, then its fallback variable. An empty variable counts as unset (as
    // compose files and .env templates leave them).
    const raw = values[name] ?? (env[spec.env] || undefined) ?? ((spec.fallbackEnv && env[spec.fallbackEnv]) || undefined);
    let value: unknown = spec.default;
    if (raw !== undefined) {
      if (spec.kind === 'int') {
        if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new ConfigError(`--${name} (${spec.env}): "${raw}" is not a whole number`);
        value = Number(raw);
      } else if (spec.kind === 'bool') {
        const word = raw === true ? 'true' : String(raw).toLowerCase();
        if (!Object.hasOwn(BOOLEANS, word)) throw new ConfigError(`--${name} (${spec.env}): "${String(raw)}" must be true or false (or 1/0, yes/no, on/off)`);
        value = BOOLEANS[word];
      } else value = raw;
    }
    const problem = typeof value === 'number' ? spec.check?.(value) : typeof value === 'string' && spec.accepts && !spec.accepts.is(value) ? spec.accepts.problem : null;
    if (problem) throw new ConfigError(`--${name} (${spec.env}): "${String(value)}" ${problem}`);
    const textProblem = typeof value === 'string' ? spec.checkText?.(value) : null;
    if (textProblem) throw new ConfigError(`--${name} (${spec.env}): ${textProblem} (in "${value}")`);
    config[name] = value;
  }
  if (config.listen && (config['tls-cert'] || config['tls-key'])) {
    throw new ConfigError('--listen unix: serves plain HTTP to a proxy on this machine, which does the TLS: --tls-cert and --tls-key are for TCP; give one or the other');
  }
  if (config['token-file']) config.token = readTokenFile(String(config['token-file']), String(config.token));
  config.auth = authMode(String(config.auth), String(config.token));
  return Object.freeze(config) as Config & { help: boolean };
}

/** The mode: --auth, else token when a token is given, else open; a token must be long, and only for token mode. */
function authMode(auth: string, token: string): AuthMode {
  const mode = (auth || (token ? 'token' : 'open')) as AuthMode;
  if (mode === 'token' && !token) throw new ConfigError('--auth token needs the token: --token SECRET or --token-file PATH');
  if (mode !== 'token' && token) throw new ConfigError(`--token (or --token-file) is for --auth token, not --auth ${mode}; give one or the other`);
  if (token && [...token].length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`--token must be at least ${MIN_TOKEN_LENGTH} characters (a short one can be guessed); make one with: openssl rand -base64 24`);
  }
  return mode;
}

/** The token --token-file names: the file's text without its trailing newline. Refuses an unreadable or empty file, or a --token as well. */
function readTokenFile(path: string, token: string): string {
  const where = `--token-file (CHAT_TOKEN_FILE) "${path}"`;
  if (token) throw new ConfigError(`${where}: --token (CHAT_TOKEN) is set too; give the token one way only`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${where}: cannot read it (${code ?? String(error)}); make it a file this user can read, holding the token`);
  }
  const read = text.replace(/[\r\n]+$/, '');
  if (!read) throw new ConfigError(`${where}: the file is empty; write the token in it`);
  return read;
}
