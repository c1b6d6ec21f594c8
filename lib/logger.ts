/** Log output: `pretty` lines for terminals, `json` lines for collectors, `silent` for tests. */
export type LogMode = 'pretty' | 'json' | 'silent';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One event as one line: a JSON object, or `hh:mm:ss [*] msg key=value …` for a person at a terminal. */
function format(mode: 'pretty' | 'json', lvl: LogLevel, msg: string, fields: Record<string, unknown>): string {
  if (mode === 'json') return JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }) + '\n';
  const mark = lvl === 'info' ? '[*]' : lvl === 'debug' ? '[.]' : lvl === 'warn' ? '[!]' : '[x]';
  // A value with spaces, quotes or line breaks is quoted, so one event stays one line.
  const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]*$/.test(v) ? v : JSON.stringify(v)}`);
  const time = new Date().toTimeString().slice(0, 8); // local hh:mm:ss, as a person at the terminal reads it
  return `${time} ${mark} ${msg}${extra.length ? ' ' + extra.join(' ') : ''}\n`;
}

/** `level`: the least severe events written (default info). Warnings and errors go to stderr, the rest to stdout. */
export function createLogger(mode: LogMode, level: LogLevel = 'info'): Logger {
  const emit = (lvl: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (mode === 'silent' || rank[lvl] < rank[level]) return;
    (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(format(mode, lvl, msg, fields));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/**
 * The startup line (`… listening on URL …`) that people and scripts wait for: on stdout whatever the level, and
 * even when silent (then as plain text); in json mode a JSON line like every other.
 */
export function announce(mode: LogMode, msg: string, fields: Record<string, unknown> = {}) {
  process.stdout.write(mode === 'silent' ? `${msg}\n` : format(mode, 'info', msg, fields));
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const isLogLevel = (v: string): v is LogLevel => (LOG_LEVELS as readonly string[]).includes(v);
