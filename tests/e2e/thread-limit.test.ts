/**
 * Under a real thread limit the server refuses streams, it never aborts. Bun 1.4.5 aborts the whole process
 * (`panic: abort() called`, exit 134) when a Worker's thread cannot be created; the server must never ask for one
 * it cannot get (runtime/thread-budget.ts). Here it runs as an unprivileged user under `ulimit -u 50` and 40
 * streams open at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { health, openStream, post, ROOT, SERVER_COMMAND, SERVER_RUNTIME, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';

const NPROC = 50;
const STREAMS = 40;
const ROOM = 'thread-limit';

/**
 * A uid no process and no account uses, when the test runs as root: RLIMIT_NPROC counts every task of the real
 * uid, so a user of its own (not `nobody`, which another run may share) keeps the count to this server's threads.
 */
function freeUid(): number {
  const used = new Set(readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => Number(line.split(':')[2])));
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      used.add(Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s*(\d+)/m)?.[1]));
    } catch {
      // exited meanwhile
    }
  }
  for (let uid = 61000 + (process.pid % 3000); ; uid++) if (!used.has(uid)) return uid;
}

/** The command prefix that runs as that user (nothing when this test is not root: it runs as itself). */
const asUser: string[] = process.getuid?.() === 0 ? ['setpriv', `--reuid=${freeUid()}`, '--regid=65534', '--clear-groups'] : [];

/** Runs the server's command line under `ulimit -u NPROC`, as that user. */
const limited = (command: string[]) => [...asUser, 'bash', '-c', `ulimit -u ${NPROC} && exec "$@"`, 'bash', ...command];

/** The files that user must read to run the server; the test copies nothing elsewhere, it says what is missing. */
function unreadable(): string[] {
  const runtime = Bun.which(SERVER_COMMAND[0]!) ?? SERVER_COMMAND[0]!;
  const files = [runtime, SERVER_COMMAND[1]!, join(ROOT, 'node_modules/hono/package.json'), join(ROOT, 'lib/config.ts')];
  const check = Bun.spawnSync([...asUser, 'bash', '-c', 'for f; do [ -r "$f" ] || echo "$f"; done', 'bash', ...files], { cwd: '/' });
  return check.stdout.toString().split('\n').filter(Boolean);
}

describe(`a server under ulimit -u ${NPROC}, as an unprivileged user (${SERVER_RUNTIME})`, () => {
  let server: ServerProcess;
  let served = -1; // streams answered 200 in the storm
  beforeAll(async () => {
    const missing = unreadable();
    if (missing.length) throw new Error(`the unprivileged user cannot read ${missing.join(', ')}: make the path traversable (nothing is copied)`);
    server = await startServer(['--store', 'memory'], {}, limited);
  });
  afterAll(async () => {
    if (server?.proc.exitCode === null) await server.stop();
  });

  /** Fails with the server's exit code and its last output when it is gone. */
  const alive = () => {
    if (server.proc.exitCode !== null || server.proc.signalCode) {
      throw new Error(`the server exited (${server.proc.exitCode ?? server.proc.signalCode}):\n${server.output().slice(-1500)}`);
    }
  };
  /** `request()`, or when it fails (a connection reset, refused), whether that was the server dying (today's Bun aborted). */
  const answered = <T>(request: () => Promise<T>): Promise<T> =>
    request().catch(async (error) => {
      await waitFor(() => server.proc.exitCode !== null || server.proc.signalCode, 'the server to exit', 3000).catch(() => {});
      alive();
      throw error;
    });
  type Health = Awaited<ReturnType<typeof health>> & { starting: number; returning: number };

  /** STREAMS streams at once, checked, closed; resolves once the pool is at rest again, with how many were served. */
  async function storm(round: number): Promise<number> {
    const text = `before storm ${round}`;
    await answered(() => post(server.url, ROOM, { name: 'ann', text }));
    const streams: Stream[] = await answered(() => Promise.all(Array.from({ length: STREAMS }, () => openStream(`${server.url}/rooms/${ROOM}/events?history=1`))));
    const ok = streams.filter((s) => s.status === 200);
    try {
      for (const s of streams.filter((s) => s.status !== 200)) {
        expect(s.status).toBe(503);
        expect(s.headers.get('retry-after')).toMatch(/^\d+$/);
      }
      await Promise.all(ok.map((s) => s.next((e) => !e.event && e.data.includes(text), 'the replayed message')));
      expect(ok.length).toBeGreaterThan(0);
      expect((await answered(() => health(server.url))).streams).toBe(ok.length);
    } finally {
      for (const s of streams) s.close();
    }
    // The pool refills behind the storm and takes the Workers back (where today's Bun aborted, most of the time).
    await waitFor(async () => {
      const h = (await answered(() => health(server.url))) as Health;
      return h.streams === 0 && h.starting === 0 && h.returning === 0;
    }, 'the streams closed and the pool at rest', 20_000);
    return ok.length;
  }

  test(`${STREAMS} streams at once, three times: each gets 200 and its events, or 503 with Retry-After, and the server lives on`, async () => {
    for (let round = 1; round <= 3; round++) served = Math.max(served, await storm(round));
    alive();
    const again = await openStream(`${server.url}/rooms/${ROOM}/events`);
    expect(again.status).toBe(200); // a Worker it took back serves the next stream
    again.close();
  });

  test('the start line says max-streams was lowered to fit the threads, and no more streams were served', async () => {
    const line = server.output().split('\n').find((l) => l.includes('listening on'))!;
    const lowered = line.match(/max-streams lowered from 5000 to (\d+): (\d+) threads left under RLIMIT_NPROC/);
    expect(lowered, line).not.toBeNull();
    expect(Number(lowered![2])).toBeLessThanOrEqual(NPROC);
    const maxStreams = Number(lowered![1]);
    expect(maxStreams).toBeGreaterThan(0);
    expect(maxStreams).toBeLessThan(NPROC);
    expect(served).toBeLessThanOrEqual(maxStreams);
    alive();
  });
});
