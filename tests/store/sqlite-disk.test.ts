/**
 * The SQLite store and its data folder, in process: the one-server lock, start errors as one line, writes the
 * disk refuses as StoreUnavailableError with one warning a minute, and the writer going on once space returns.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger.ts';
import { createOutageLog } from '../../store/outage-log.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import { StoreStartError, StoreUnavailableError } from '../../store/types.ts';
import { tempDir } from '../helpers.ts';

const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));
const folder = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path;
};
const msg = (text: string) => ({ room: 'r', name: 'tester', text, client: null });

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('store: sqlite data folder', () => {
  it('refuses a second locking store on a folder, naming the folder and the PID; one without the lock opens; close() lets go', async () => {
    const dir = folder();
    const server = createSqliteStore({ dir, lock: true });
    expect(readFileSync(join(dir, 'server.pid'), 'utf8').trim()).toBe(String(process.pid));
    let refusal: unknown;
    try {
      createSqliteStore({ dir, lock: true });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(StoreStartError);
    expect((refusal as Error).message).toContain(dir);
    expect((refusal as Error).message).toContain(`PID ${process.pid}`);
    // A tool beside the server (no lock) reads and writes the same store.
    const tool = createSqliteStore({ dir });
    await tool.append(msg('from a tool'));
    await tool.close();
    await server.append(msg('from the server'));
    await server.close();
    expect(existsSync(join(dir, 'server.pid'))).toBe(false);
    const next = createSqliteStore({ dir, lock: true });
    expect((await next.recent('r', 10)).map((m) => m.text)).toEqual(['from a tool', 'from the server']);
    await next.close();
  });

  it('throws StoreStartError naming the folder when it cannot be made', () => {
    const parent = folder();
    writeFileSync(join(parent, 'a-file'), '');
    const dir = join(parent, 'a-file', 'data'); // under a file: ENOTDIR, whoever runs the test (root included)
    expect(() => createSqliteStore({ dir, lock: true })).toThrow(StoreStartError);
    expect(() => createSqliteStore({ dir })).toThrow(`cannot use the data folder ${dir}: `);
  });

  it('rejects what the disk refuses with StoreUnavailableError, warns once, and writes again once space returns', async () => {
    const dir = folder();
    const flag = join(dir, 'full.flag');
    const { logger, lines } = recordingLogger();
    const store = createSqliteStore({ dir, logger, diskFullFlag: flag });
    const acked = [await store.append(msg('before'))];
    writeFileSync(flag, ''); // from now on the database may not grow
    const refused: unknown[] = [];
    for (let i = 0; i < 2000 && refused.length < 20; i++) {
      try {
        acked.push(await store.append(msg(`filling ${i} ${'x'.repeat(300)}`)));
      } catch (error) {
        refused.push(error);
      }
    }
    expect(refused).toHaveLength(20);
    for (const error of refused) {
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ outcome: 'not-stored', message: expect.stringContaining('SQLITE_FULL') });
    }
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', msg: expect.any(String), fields: expect.objectContaining({ dir, code: 'SQLITE_FULL' }) },
    ]);

    rmSync(flag); // space is back: the same writer, its connection, goes on
    acked.push(await store.append(msg('after')));
    expect(lines.filter((l) => l.level === 'info')).toEqual([
      { level: 'info', msg: 'SQLite writes again', fields: expect.objectContaining({ dir, failures: 20 }) },
    ]);
    expect((await store.since('r', '0', 5000)).messages.map((m) => m.id)).toEqual(acked.map((m) => m.id));
    await store.close();
  });
});

describe('outage log', () => {
  it('warns once a minute per kind of failure, with how many it held back, and once that it works again', () => {
    let clock = 1_000_000;
    const { logger, lines } = recordingLogger();
    const outages = createOutageLog(logger, 60_000, () => clock);
    outages.succeeded('works again'); // nothing failed: nothing to say
    for (let i = 0; i < 100; i++) outages.failed('FULL', 'disk full', { code: 'SQLITE_FULL' });
    outages.failed('IOERR', 'disk failing', { code: 'SQLITE_IOERR_WRITE' }); // another kind: its own warning
    clock += 59_999;
    outages.failed('FULL', 'disk full', { code: 'SQLITE_FULL' });
    clock += 1;
    outages.failed('FULL', 'disk full', { code: 'SQLITE_FULL' });
    clock += 5_000;
    outages.succeeded('works again', { dir: 'd' });
    outages.succeeded('works again', { dir: 'd' });
    expect(lines).toEqual([
      { level: 'warn', msg: 'disk full', fields: { code: 'SQLITE_FULL' } },
      { level: 'warn', msg: 'disk failing', fields: { code: 'SQLITE_IOERR_WRITE' } },
      { level: 'warn', msg: 'disk full', fields: { code: 'SQLITE_FULL', suppressed: 100 } },
      { level: 'info', msg: 'works again', fields: { dir: 'd', downMs: 65_000, failures: 103 } },
    ]);
  });
});
