/**
 * `bin/chat --dm NAME`: the terminal client in a direct room (lib/direct.ts), found with `GET /dm/@NAME`, signed in
 * with CHAT_USER and CHAT_PASSWORD; a name that is no account, or no sign-in at all, is said and exits at once.
 * Real server (accounts on SQLite), real curl, the client in a real tmux pane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { createTmux, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const password = (name: string) => `${name} has a long password`;
const basic = (name: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${password(name)}`).toString('base64')}` });
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** bin/chat with only the given CHAT_* variables, then its exit code; the pane stays open to be read. */
const chatLine = (env: string[], ...args: string[]) =>
  `${['env', '-u', 'CHAT_TOKEN', '-u', 'CHAT_USER', '-u', 'CHAT_PASSWORD', ...env, CHAT, ...args].map(quote).join(' ')}; echo "exit=$?"; read -r _`;
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('bin/chat --dm', () => {
  const data = tempDir();
  let server: ServerProcess;
  let tmux: Tmux;
  beforeAll(async () => {
    for (const name of ['alice', 'bob']) {
      const add = Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), 'add', name, '--password-stdin', '--data', data.path], { stdin: new Blob([password(name)]) });
      expect(add.exitCode).toBe(0);
    }
    server = await startServer(['--data', data.path, '--auth', 'accounts']);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    await server.stop();
    data.remove();
  });

  it("joins the two people's room: the other's lines show, and what is typed reaches them alone", async () => {
    const room = ((await (await fetch(`${server.url}/dm/@alice`, { headers: { Accept: 'application/json', ...basic('bob') } })).json()) as { room: string }).room;
    tmux.must('new-session', '-d', '-s', 'dm', '-x', '200', '-y', '40', chatLine(['CHAT_USER=alice', `CHAT_PASSWORD=${password('alice')}`], '--url', server.url, '--dm', 'bob', '--name', 'alice'));
    await tmux.waitForPane('dm', (t) => t.includes('in direct messages with bob'), 'the greeting');
    await waitFor(async () => {
      const res = await fetch(`${server.url}/rooms/${room}/members`, { headers: basic('bob') });
      return ((await res.json()) as { members: string[] }).members.includes('alice');
    }, "alice's client in the direct room");
    await fetch(`${server.url}/rooms/${room}/messages`, { method: 'POST', headers: { ...basic('bob'), 'Content-Type': 'text/plain' }, body: 'are you there?' });
    await tmux.waitForPane('dm', (t) => t.includes('bob: are you there?'), "bob's line in alice's pane");
    tmux.type('dm', 'yes, just us');
    await waitFor(async () => {
      const res = await fetch(`${server.url}/rooms/${room}/messages`, { headers: { Accept: 'application/json', ...basic('bob') } });
      return ((await res.json()) as { messages: { name: string; text: string }[] }).messages.some((m) => m.name === 'alice' && m.text === 'yes, just us');
    }, "alice's line in the direct room");
    tmux.run('kill-session', '-t', 'dm');
  });

  it('says why and exits 1 for a name that is no account, and 2 without a sign-in', async () => {
    tmux.must('new-session', '-d', '-s', 'nobody', '-x', '200', '-y', '40', chatLine(['CHAT_USER=alice', `CHAT_PASSWORD=${password('alice')}`], '--url', server.url, '--dm', 'nobody', '--name', 'alice'));
    const text = flat(await tmux.waitForPane('nobody', (t) => /exit=\d+/.test(t), 'the client to exit'));
    expect(text).toContain('no direct messages with nobody');
    expect(text).toContain('there is no account "nobody"');
    expect(text).toContain('exit=1');
    tmux.must('new-session', '-d', '-s', 'anon', '-x', '200', '-y', '40', chatLine([], '--url', server.url, '--dm', 'bob', '--name', 'x'));
    const anon = flat(await tmux.waitForPane('anon', (t) => /exit=\d+/.test(t), 'the client to exit'));
    expect(anon).toContain('--dm needs you signed in');
    expect(anon).toContain('exit=2');
  });
});
