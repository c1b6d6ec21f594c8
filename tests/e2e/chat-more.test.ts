/**
 * bin/chat's /more in a real tmux against a real server: each /more prints the 20 messages before the oldest one
 * shown, in order and once, then says when nothing is older: the start of the room, or retention's doing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { post, ROOT, startServer, type ServerProcess } from '../helpers.ts';
import { count, createTmux, killLeftovers, processTree, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const mark = (i: number) => `msg-${String(i).padStart(3, '0')}`;

/**
 * The pane shows marks `from`..`to` (inclusive) once each, in order, below position `after`; returns where the
 * last one is. Each /more prints its page below what is on the screen, oldest first.
 */
function inOrder(text: string, from: number, to: number, after = -1): number {
  let at = after;
  for (let i = from; i <= to; i++) {
    expect(count(text, `: ${mark(i)}\n`)).toBe(1);
    const next = text.indexOf(`: ${mark(i)}\n`);
    expect(next).toBeGreaterThan(at);
    at = next;
  }
  return at;
}

describe('bin/chat /more', () => {
  let server: ServerProcess;
  let tmux: Tmux;
  const started = new Set<number>();

  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--history', '30', '--retention', '60', '--post-rate', '0', '--post-rate-ip', '0']);
    tmux = createTmux();
    for (let i = 0; i < 55; i++) await post(server.url, 'whole', { name: 'ann', text: mark(i) });
    for (let i = 0; i < 75; i++) await post(server.url, 'short', { name: 'bo', text: mark(i) });
  });
  afterAll(async () => {
    await tmux.kill();
    killLeftovers(started);
    await server.stop();
  });

  /** A client in `room` in its own session, once it has shown the last message. */
  const enter = async (room: string, last: number) => {
    tmux.must('new-session', '-d', '-s', room, '-x', '150', '-y', '50', `${CHAT} --url ${server.url} --room ${room} --name reader`);
    await tmux.waitForPane(room, (t) => t.includes(`: ${mark(last)}\n`), 'the replayed history');
    for (const pid of processTree(tmux.panePid(room))) started.add(pid);
  };
  const more = async (room: string, shows: (text: string) => boolean, what: string) => {
    tmux.type(room, '/more');
    return tmux.waitForPane(room, shows, what);
  };

  it('is listed by --help', () => {
    expect(Bun.spawnSync([CHAT, '--help']).stdout.toString()).toContain('/more         the 20 messages before the oldest one shown');
  });

  it('pages back 20 at a time to the start of the room', async () => {
    await enter('whole', 54);
    tmux.type('whole', '/help');
    await tmux.waitForPane('whole', (t) => t.includes('/more         the 20 messages before the oldest one shown'), 'the command list');
    expect(count(tmux.capture('whole'), `: ${mark(24)}\n`)).toBe(0); // --history 30: 25..54
    let text = await more('whole', (t) => t.includes(`: ${mark(5)}\n`), 'the first page back');
    inOrder(text, 5, 24, inOrder(text, 25, 54));
    expect(text).not.toContain('nothing older');
    text = await more('whole', (t) => t.includes('* nothing older: this is the start of #whole'), 'the start of the room');
    const end = inOrder(text, 0, 4, inOrder(text, 5, 24, inOrder(text, 25, 54)));
    expect(text.indexOf('* nothing older')).toBeGreaterThan(end);
    text = await more('whole', (t) => count(t, '* nothing older: this is the start of #whole') === 2, 'the start again');
    inOrder(text, 0, 4, inOrder(text, 5, 24, inOrder(text, 25, 54))); // nothing printed twice
  });

  it('says when retention removed older messages', async () => {
    await enter('short', 74); // 75 posted, about 60 kept (memory: exactly), 30 shown: 45..74
    await more('short', (t) => t.includes(`: ${mark(25)}\n`), 'the first page back');
    const text = await more('short', (t) => t.includes('* nothing older is kept'), 'the retention line');
    expect(text).toContain("* nothing older is kept: the server removed older messages (it keeps about the last 60 of a room)\n");
    const end = inOrder(text, 15, 24, inOrder(text, 25, 44, inOrder(text, 45, 74)));
    expect(count(text, `: ${mark(14)}\n`)).toBe(0);
    expect(text.indexOf('* nothing older is kept')).toBeGreaterThan(end);
  });
});
