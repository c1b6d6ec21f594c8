/**
 * The --data folder at start: one server per folder (a second one exits 2 naming the folder and the holder's
 * PID; the lock dies with its holder, kill -9 included), and a folder that cannot be written stops the start with
 * one line, not a stack trace.
 */
import { describe, expect, it } from 'bun:test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { post, startServer, tempDir } from '../helpers.ts';
import { allMessages, refusedStart, stderrLines, writableFolder } from './disk-helpers.ts';

describe('the data folder', () => {
  it('is 0700 and its files 0600, whatever the umask', async () => {
    const data = tempDir();
    const dir = join(data.path, 'data');
    const server = await startServer(['--data', dir], {}, (command) => ['sh', '-c', 'umask 000; exec "$@"', 'sh', ...command]);
    try {
      await post(server.url, 'main', { name: 'ann', text: 'kept private' });
      const modes = Object.fromEntries(readdirSync(dir).map((name) => [name, (statSync(join(dir, name)).mode & 0o777).toString(8)]));
      expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
      expect(Object.keys(modes)).toEqual(expect.arrayContaining(['chat.sqlite', 'chat.sqlite-wal', 'chat.sqlite-shm', 'server.lock', 'server.pid']));
      expect(Object.entries(modes).filter(([, mode]) => mode !== '600')).toEqual([]);
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('refuses a second server on the same --data, naming the folder and the PID holding it; after kill -9 the next one starts', async () => {
    const data = tempDir();
    const first = await startServer(['--data', data.path]);
    try {
      const acked = await post(first.url, 'locked', { name: 'ann', text: 'said to the first server' });
      const second = await refusedStart(['--data', data.path]);
      expect(second.started).toBe(false);
      expect(second.code).toBe(2);
      const lines = stderrLines(second);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith('threadchat: ');
      expect(lines[0]).toContain(data.path);
      expect(lines[0]).toContain(`PID ${first.proc.pid}`);
      // The first server is unharmed by the attempt.
      await post(first.url, 'locked', { name: 'ann', text: 'still there' });

      await first.kill9(); // no clean-up of any kind: the lock goes with the process
      const third = await startServer(['--data', data.path]);
      try {
        const texts = (await allMessages(third.url, 'locked')).map((m) => m.text);
        expect(texts).toEqual([acked.text, 'still there']);
        await post(third.url, 'locked', { name: 'bob', text: 'said to the third server' });
        expect(await third.stop()).toBe(0);
      } finally {
        await third.kill9();
      }
      // A clean stop leaves the folder free as well.
      const fourth = await startServer(['--data', data.path]);
      expect((await allMessages(fourth.url, 'locked')).length).toBe(3);
      expect(await fourth.stop()).toBe(0);
    } finally {
      await first.kill9();
      data.remove();
    }
  });

  it('exits 2 with one line naming the folder when the data folder cannot be written', async () => {
    const folder = writableFolder();
    try {
      const server = await startServer(['--data', folder.path]); // a store in it from before
      await post(server.url, 'kept', { name: 'ann', text: 'written before the folder turned read-only' });
      expect(await server.stop()).toBe(0);
      folder.makeReadOnly();
      // The folder with its store in it, and a folder the server would have to make there.
      for (const data of [folder.path, join(folder.path, 'fresh')]) {
        const refusal = await refusedStart(['--data', data]);
        expect(refusal.started).toBe(false);
        expect(refusal.code).toBe(2);
        const lines = stderrLines(refusal);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toStartWith('threadchat: ');
        expect(lines[0]).toContain(data);
        expect(lines[0]).not.toContain('    at ');
      }
    } finally {
      folder.remove();
    }
  });
});
