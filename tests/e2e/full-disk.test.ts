/**
 * A full disk under a running server: posts answer 503 with Retry-After (never 500), the log says so once, the
 * server takes posts again by itself once space returns, and nothing acknowledged is lost. And the write-ahead
 * log stays small, so it does not fill a small volume by itself.
 */
import { describe, expect, it } from 'bun:test';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir } from '../helpers.ts';
import { allMessages, IS_ROOT, mountTmpfs } from './disk-helpers.ts';

const UNLIMITED = ['--post-rate', '0', '--post-rate-ip', '0'];

/** A disk the test fills and empties under the server. */
interface SmallDisk {
  data: string;
  env: Record<string, string>;
  fill(): void;
  free(): void;
  remove(): void;
}

/** A 2 MiB tmpfs (root): filled by a file written until the volume has no block left. */
function tmpfsDisk(): SmallDisk {
  const disk = mountTmpfs('2m');
  const filler = join(disk.path, 'filler');
  return {
    data: disk.path,
    env: {},
    fill: () => void Bun.spawnSync(['dd', 'if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdout: 'ignore', stderr: 'ignore' }), // ends at ENOSPC
    free: () => rmSync(filler),
    remove: disk.remove,
  };
}

/**
 * Without root: SQLite's own page quota (max_page_count), which the writer sets from the test-only flag file
 * THREADCHAT_TEST_DISK_FULL names. SQLite answers SQLITE_FULL exactly as for a full disk.
 */
function quotaDisk(): SmallDisk {
  const dir = tempDir();
  const flag = join(dir.path, 'disk-full.flag');
  return {
    data: join(dir.path, 'data'),
    env: { THREADCHAT_TEST_DISK_FULL: flag },
    fill: () => writeFileSync(flag, ''),
    free: () => rmSync(flag),
    remove: dir.remove,
  };
}

async function postOnce(base: string, text: string) {
  const res = await fetch(`${base}/rooms/full/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ name: 'ann', text }),
  });
  const body = (await res.json()) as { id?: string; error?: string };
  return { status: res.status, retryAfter: res.headers.get('Retry-After'), id: body.id, body };
}

describe('a full disk', () => {
  const disks: [string, () => SmallDisk][] = [["SQLite's page quota", quotaDisk]];
  if (IS_ROOT) disks.unshift(['a 2 MiB tmpfs', tmpfsDisk]);
  for (const [what, makeDisk] of disks) {
    it(`answers 503 with Retry-After and one warning, then takes posts again once space returns (${what})`, async () => {
      const disk = makeDisk();
      const server = await startServer(['--data', disk.data, '--log', 'json', ...UNLIMITED], disk.env);
      try {
        const acked: string[] = [];
        for (let i = 0; i < 20; i++) acked.push((await postOnce(server.url, `before ${i} ${'x'.repeat(200)}`)).id!);
        disk.fill();
        // Space already taken (the end of a page, of the write-ahead log) lets a few more in; then none.
        let refused = null;
        for (let i = 0; i < 5000 && !refused; i++) {
          const answer = await postOnce(server.url, `filling ${i} ${'x'.repeat(200)}`);
          expect([201, 503]).toContain(answer.status);
          if (answer.status === 201) acked.push(answer.id!);
          else refused = answer;
        }
        expect(refused).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
        for (let i = 0; i < 50; i++) {
          expect(await postOnce(server.url, `while full ${i} ${'x'.repeat(200)}`)).toMatchObject({ status: 503, retryAfter: expect.any(String) });
        }

        disk.free();
        const after = await postOnce(server.url, 'space is back'); // no restart
        expect(after.status).toBe(201);
        acked.push(after.id!);
        const kept = (await allMessages(server.url, 'full')).map((m) => m.id);
        expect(kept).toEqual(acked);
        expect(await server.stop()).toBe(0);

        const lines = (await server.allOutput()).split('\n').filter((line) => line.trim() !== '');
        const events = lines.map((line) => JSON.parse(line) as { level: string; msg: string; [k: string]: unknown }); // every line is one event: no stack trace
        const warnings = events.filter((e) => e.level === 'warn' || e.level === 'error');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ level: 'warn', code: 'SQLITE_FULL' });
        expect(JSON.stringify(warnings[0])).toContain(disk.data);
      } finally {
        await server.kill9();
        disk.remove();
      }
    }, 120_000);
  }

  it('keeps the write-ahead log small over thousands of posts', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path, ...UNLIMITED]);
    const wal = join(data.path, 'chat.sqlite-wal');
    try {
      let largest = 0;
      for (let i = 0; i < 3000; i += 10) {
        const answers = await Promise.all(Array.from({ length: 10 }, (_, j) => postOnce(server.url, `message ${i + j} ${'x'.repeat(100)}`)));
        for (const answer of answers) expect(answer.status).toBe(201);
        largest = Math.max(largest, statSync(wal, { throwIfNoEntry: false })?.size ?? 0);
      }
      const db = statSync(join(data.path, 'chat.sqlite')).size;
      console.log(`full-disk: after 3000 posts the database is ${db} bytes; the write-ahead log was ${largest} bytes at most`);
      // A checkpoint once past 1 MiB of log (store/sqlite-disk.ts): a batch's worth above that at most. SQLite's own
      // checkpoint at 4 MiB left the file at 4.1 MB.
      expect(largest).toBeLessThan(1.25 * 1024 * 1024);
      expect(await server.stop()).toBe(0);
    } finally {
      await server.kill9();
      data.remove();
    }
  }, 120_000);
});
