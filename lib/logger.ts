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

export function createLogger(mode: LogMode, level: LogLevel = 'info'): Logger {
  const emit = (lvl: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (mode === 'silent' || rank[lvl] < rank[level]) return;
    const out = lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout;
    if (mode === 'json') {
      out.write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }) + '\n');
      return;
    }
    const mark = lvl === 'info' ? '[*]' : lvl === 'debug' ? '[.]' : lvl === 'warn' ? '[!]' : '[x]';
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    out.write(`${mark} ${msg}${extra.length ? ' ' + extra.join(' ') : ''}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
