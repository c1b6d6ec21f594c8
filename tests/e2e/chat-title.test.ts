/**
 * bin/chat names its terminal: it sets the title to `#room · name` (OSC 0) when its output is a terminal, so every
 * emulator's window and every tmux pane shows whose it is, and /nick changes it. Its output to a pipe gets no
 * escape. A real tmux (its #{pane_title} is what OSC 0 set) against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { ROOT, startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { createTmux, killLeftovers, processTree, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

describe('bin/chat sets its terminal\'s title', () => {
  let server: ServerProcess;
  let tmux: Tmux;
  const started = new Set<number>();
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    killLeftovers(started);
    await server.stop();
  });

  const title = (target: string) => tmux.run('display-message', '-p', '-t', target, '#{pane_title}').out.replace(/\n$/, '');

  it('to #room · name, and to the new name after /nick', async () => {
    tmux.must('new-session', '-d', '-s', 'titled', '-x', '150', '-y', '40', [CHAT, '--url', server.url, '--room', 'lobby', '--name', 'dora'].map(quote).join(' '));
    await tmux.waitForPane('titled', (t) => t.includes('1 here: dora'), 'dora in the room');
    for (const pid of processTree(tmux.panePid('titled'))) started.add(pid);
    await waitFor(() => title('titled') === '#lobby · dora', `the title #lobby · dora (it is "${title('titled')}")`, 5000);
    tmux.type('titled', '/nick dorothy');
    await tmux.waitForPane('titled', (t) => t.includes('* dora is now dorothy'), 'the rename');
    await waitFor(() => title('titled') === '#lobby · dorothy', `the title #lobby · dorothy (it is "${title('titled')}")`, 5000);
  });

  it('but not when its output is not a terminal', async () => {
    const proc = Bun.spawn([CHAT, '--url', server.url, '--room', 'lobby', '--name', 'piped'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
    const out = new Response(proc.stdout).text();
    proc.stdin.write('/nick piper\n/quit\n');
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
    const text = await out;
    expect(text).toContain('you are now piper');
    expect(text).not.toContain('\x1b]');
  });
});
