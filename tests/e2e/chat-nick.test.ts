/**
 * bin/chat keeps a /nick across a server restart: its stream runs in a background loop, and the reconnect after the
 * restart must carry the new name, so the room sees caroline come back, never carol.
 */
import { describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { openStream, ROOT, startServer, tempDir, waitFor, type Stream } from '../helpers.ts';
import { createTmux, freePort, killLeftovers, processTree } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function members(url: string, room: string): Promise<string[]> {
  return ((await (await fetch(`${url}/rooms/${room}/members`)).json()) as { members: string[] }).members;
}

/** Every name a presence event of `stream` shows: those listed as here and those a change names. */
function namesSeen(stream: Stream): string[] {
  return stream.events
    .filter((e) => e.event === 'presence')
    .flatMap((e) => {
      const p = JSON.parse(e.data) as { members: string[]; change: { name: string; from?: string } | null; changes?: { name: string; from?: string }[] };
      return [...p.members, ...[p.change, ...(p.changes ?? [])].flatMap((c) => (c ? [c.name, ...(c.from ? [c.from] : [])] : []))];
    });
}

describe('bin/chat across a server restart after /nick', () => {
  it('reconnects under the new name: the room sees caroline join, never carol', async () => {
    const data = tempDir();
    const port = freePort(); // the same port before and after the restart: the client knows only that URL
    let server = await startServer(['--port', String(port), '--data', data.path]);
    const tmux = createTmux();
    const started = new Set<number>();
    const watchers: Stream[] = [];
    try {
      tmux.must('new-session', '-d', '-s', 'carol', '-x', '150', '-y', '40', [CHAT, '--url', server.url, '--room', 'names', '--name', 'carol'].map(quote).join(' '));
      await waitFor(async () => (await members(server.url, 'names')).includes('carol'), 'carol in presence');
      await tmux.waitForPane('carol', (t) => t.includes('* carol joined'), 'carol\'s stream');
      for (const pid of processTree(tmux.panePid('carol'))) started.add(pid);
      tmux.type('carol', '/nick caroline');
      await tmux.waitForPane('carol', (t) => t.includes('* carol is now caroline'), 'the rename on carol\'s own stream');
      expect(await members(server.url, 'names')).toEqual(['caroline']);

      expect(await server.stop()).toBe(0);
      await tmux.waitForPane('carol', (t) => t.includes('reconnecting'), 'the notice that the server went away');
      server = await startServer(['--port', String(port), '--data', data.path]);
      // Whoever connects first, the watcher's presence events list the client under the name it came back with.
      const watcher = await openStream(`${server.url}/rooms/names/events?client=watcher-${port}`);
      watchers.push(watcher);
      await tmux.waitForPane('carol', (t) => t.includes('* reconnected'), 'the client back on the new server', 20_000);
      await waitFor(async () => (await members(server.url, 'names')).length > 0, 'the client in presence again');
      expect(await members(server.url, 'names')).toEqual(['caroline']);
      await watcher.next((e) => e.event === 'presence' && (JSON.parse(e.data) as { members: string[] }).members.includes('caroline'), 'caroline in the room');
      expect(namesSeen(watcher)).not.toContain('carol');
      const pane = tmux.capture('carol');
      expect(pane.slice(pane.indexOf('* reconnected'))).not.toContain('carol joined');
    } finally {
      for (const w of watchers) w.close();
      await tmux.kill();
      killLeftovers(started);
      await server.stop();
      data.remove();
    }
  }, 60_000);
});
