import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUN, ROOT, openStream, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { alive, commandOf, count, createTmux, freePort, killLeftovers, processTree, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const chat = (...args: string[]) => [CHAT, ...args].map(quote).join(' ');
/**
 * The client under a shell that prints its exit code (tmux does not always reap a pane's process here) and then
 * keeps the terminal open, so a curl the client left behind would not be ended by the terminal's hangup.
 */
const chatReporting = (...args: string[]) => `trap : INT; ${chat(...args)}; echo "exit=$?"; read -r _`;

async function members(url: string, room: string): Promise<string[]> {
  return ((await (await fetch(`${url}/rooms/${room}/members`)).json()) as { members: string[] }).members;
}

function curlPost(url: string, room: string, name: string, text: string) {
  const posted = Bun.spawnSync(['curl', '-sS', '-d', text, `${url}/rooms/${room}/messages?name=${name}`]);
  if (posted.exitCode !== 0) throw new Error(`curl failed: ${posted.stderr}`);
  return JSON.parse(posted.stdout.toString()) as { id: string };
}

describe('bin/chat', () => {
  const data = tempDir();
  let server: ServerProcess;
  let tmux: Tmux;
  const started = new Set<number>();
  beforeAll(async () => {
    server = await startServer(['--data', data.path]);
    tmux = createTmux();
  });
  afterAll(async () => {
    await tmux.kill();
    killLeftovers(started);
    await server.stop();
    data.remove();
  });

  it('shows a typed line to the others once, not twice to the sender; /nick renames; /quit exits 0', async () => {
    const room = 'duo';
    tmux.must('new-session', '-d', '-s', 'duo', '-x', '150', '-y', '40', chatReporting('--url', server.url, '--room', room, '--name', 'alice'));
    tmux.must('set-option', '-g', 'remain-on-exit', 'on'); // keep a pane's last words readable
    // bob gives no --name: the client asks for one on its terminal.
    tmux.must('split-window', '-t', 'duo:0', chatReporting('--url', server.url, '--room', room));
    const [alice, bob] = ['duo:0.0', 'duo:0.1'];
    await tmux.waitForPane(bob, (t) => t.includes('Your name'), 'the name prompt');
    tmux.type(bob, 'bob');
    await waitFor(async () => (await members(server.url, room)).join() === 'alice,bob', 'alice and bob in presence');
    // Type only once the presence line is out: output landing mid-typing would keep the typed echo on screen.
    await tmux.waitForPane(alice, (t) => t.includes('2 here: alice, bob'), 'bob\'s arrival at alice');
    for (const pane of [alice, bob]) for (const pid of processTree(tmux.panePid(pane))) started.add(pid);

    tmux.type(alice, 'hello from alice');
    await tmux.waitForPane(bob, (t) => t.includes('alice: hello from alice'), 'alice\'s line at bob');
    await tmux.waitForPane(alice, (t) => t.includes('alice: hello from alice'), 'alice\'s own line, printed locally');
    // A reply after it: the stream is ordered, so an echo of alice's line would reach her before this.
    tmux.type(bob, 'reply from bob');
    const seen = await tmux.waitForPane(alice, (t) => t.includes('bob: reply from bob'), 'bob\'s reply at alice');
    await tmux.waitForPane(bob, (t) => t.includes('bob: reply from bob'), 'bob\'s own line, printed once his POST returned');
    expect(count(seen, 'hello from alice')).toBe(1); // no echo from the server, and the typed echo replaced
    expect(count(tmux.capture(bob), 'alice: hello from alice')).toBe(1);
    expect(count(tmux.capture(bob), 'reply from bob')).toBe(1);

    tmux.type(alice, '/nick alicia');
    await tmux.waitForPane(bob, (t) => t.includes('* alice is now alicia'), 'the rename at bob');
    tmux.type(alice, 'a line as alicia');
    await tmux.waitForPane(bob, (t) => t.includes('alicia: a line as alicia'), 'the new name at bob');
    expect(await members(server.url, room)).toEqual(['alicia', 'bob']);
    expect(count(tmux.capture(bob), 'hello from alice')).toBe(1); // the rename replayed nothing

    tmux.type(bob, '/who');
    await tmux.waitForPane(bob, (t) => t.includes('* 2 here: alicia, bob'), 'the /who answer');

    const bobProcesses = processTree(tmux.panePid(bob)); // the shell, then the client, its loop and its curl
    expect(bobProcesses.map(commandOf).filter((c) => c.startsWith('curl')).length).toBe(1); // its stream
    tmux.type(bob, '/quit');
    await tmux.waitForPane(bob, (t) => t.includes('exit=0'), 'bob\'s client to exit 0 after /quit');
    await waitFor(() => !bobProcesses.slice(1).some(alive), 'bob\'s client, stream loop and curl to end');

    const aliceProcesses = processTree(tmux.panePid(alice));
    expect(aliceProcesses.map(commandOf).filter((c) => c.startsWith('curl')).length).toBe(1);
    tmux.must('send-keys', '-t', alice, 'C-c');
    await tmux.waitForPane(alice, (t) => t.includes('exit=130'), 'alice\'s client to end on Ctrl-C');
    await waitFor(() => !aliceProcesses.slice(1).some(alive), 'alice\'s client, stream loop and curl to end on Ctrl-C (no orphans)');
    expect(tmux.leftovers()).toEqual([]); // both clients removed their state directories
  });

  it('prints usage with --help and refuses a bad room', () => {
    const help = Bun.spawnSync([CHAT, '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout.toString()).toContain('/nick NAME');
    expect(help.stdout.toString()).toContain('--insecure');
    const bad = Bun.spawnSync([CHAT, '--room', 'Not A Room', '--name', 'x', '--url', server.url], { stdin: 'ignore' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain('1-64 letters (of any script), digits, _ or -');
  });
});

describe('bin/chat with a token, from its environment', () => {
  it('takes $CHAT_URL and CHAT_TOKEN, lists its commands on /help, and ends on Ctrl-D with exit 0', async () => {
    const server = await startServer(['--store', 'memory', '--token', 'open sesame, please']);
    const tmux = createTmux();
    try {
      tmux.must('new-session', '-d', '-s', 'env', '-x', '150', '-y', '40', `export CHAT_URL=${quote(server.url)} CHAT_TOKEN='open sesame, please'; ${chatReporting('--room', 'env', '--name', 'gus')}`);
      await waitFor(async () => {
        const res = await fetch(`${server.url}/rooms/env/members`, { headers: { Authorization: 'Bearer open sesame, please' } });
        return ((await res.json()) as { members: string[] }).members.includes('gus');
      }, 'gus in presence, through the token');
      await tmux.waitForPane('env', (t) => t.includes(`gus in room env at ${server.url}`), 'the greeting naming $CHAT_URL');
      tmux.type('env', '/help');
      await tmux.waitForPane('env', (t) => t.includes('/quit') && t.includes('/nick'), 'the command list');
      tmux.type('env', 'with the token');
      await waitFor(async () => {
        const res = await fetch(`${server.url}/rooms/env/messages`, { headers: { Authorization: 'Bearer open sesame, please' } });
        return ((await res.json()) as { messages: { text: string }[] }).messages.some((m) => m.text === 'with the token');
      }, 'the line stored, posted with the token');
      tmux.must('send-keys', '-t', 'env', 'C-d');
      await tmux.waitForPane('env', (t) => t.includes('exit=0'), 'the client to end on Ctrl-D with 0');
    } finally {
      await tmux.kill();
      await server.stop();
    }
  });
});

describe('bin/chat while the server refuses its stream', () => {
  it('retries after 0.5, 1 and 2 s, then every 4 s, says so once, and joins once a server has room', async () => {
    const port = freePort();
    const body = '{"error":"server full; try again shortly"}';
    const attempts: number[] = [];
    // What a full server answers, from a plain socket that notes when each attempt came.
    const refuser = Bun.listen({
      hostname: '127.0.0.1',
      port,
      socket: {
        data(socket, data) {
          if (!/^GET \/rooms\/backoff\/events/.test(data.toString())) return void socket.end();
          attempts.push(performance.now());
          socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        },
      },
    });
    const tmux = createTmux();
    let server: ServerProcess | null = null;
    try {
      tmux.must('new-session', '-d', '-s', 'backoff', '-x', '150', '-y', '40', chatReporting('--url', `http://127.0.0.1:${port}`, '--room', 'backoff', '--name', 'hal'));
      await waitFor(() => attempts.length >= 6, 'six attempts at the stream', 20_000);
      const pauses = attempts.slice(1).map((at, i) => (at - attempts[i]!) / 1000);
      const expected = [0.5, 1, 2, 4, 4];
      pauses.slice(0, 5).forEach((pause, i) => {
        expect(pause).toBeGreaterThanOrEqual(expected[i]! * 0.9);
        expect(pause).toBeLessThan(expected[i]! + 1.5);
      });
      const pane = await tmux.waitForPane('backoff', (t) => t.includes('server full'), 'the refusal, said');
      expect(count(pane, 'the server refused the stream')).toBe(1); // once, not once per attempt
      refuser.stop(true);
      server = await startServer(['--port', String(port), '--store', 'memory']);
      await waitFor(async () => (await members(server!.url, 'backoff')).includes('hal'), 'hal in presence once a server has room', 10_000);
      await tmux.waitForPane('backoff', (t) => t.includes('reconnected'), 'the client saying it is back');
    } finally {
      refuser.stop(true);
      await tmux.kill();
      await server?.stop();
    }
  }, 60_000);
});

describe('bin/chat across a server restart', () => {
  it('says the server went away once, reconnects and shows what was posted meanwhile once', async () => {
    const data = tempDir();
    const port = freePort(); // the same port before and after the restart: the clients know only that URL
    let server = await startServer(['--port', String(port), '--data', data.path]);
    const tmux = createTmux();
    try {
      // carl only posts before the restart (no id seen: he reconnects fresh and must skip his own line in the
      // replayed history); dana has seen a message (she resumes with Last-Event-ID).
      tmux.must('new-session', '-d', '-s', 'carl', '-x', '150', '-y', '40', chat('--url', server.url, '--room', 'quiet', '--name', 'carl'));
      tmux.must('new-session', '-d', '-s', 'dana', '-x', '150', '-y', '40', chat('--url', server.url, '--room', 'busy', '--name', 'dana'));
      await waitFor(async () => (await members(server.url, 'quiet')).includes('carl'), 'carl in presence');
      await waitFor(async () => (await members(server.url, 'busy')).includes('dana'), 'dana in presence');
      await tmux.waitForPane('carl', (t) => t.includes('* carl joined'), 'carl\'s stream');
      tmux.type('carl', 'mine before the restart');
      await tmux.waitForPane('carl', (t) => t.includes('carl: mine before the restart'), 'carl\'s own line');
      curlPost(server.url, 'busy', 'dora', 'before the restart');
      await tmux.waitForPane('dana', (t) => t.includes('dora: before the restart'), 'the first line at dana');

      expect(await server.stop()).toBe(0);
      for (const who of ['carl', 'dana']) await tmux.waitForPane(who, (t) => t.includes('reconnecting'), `the notice at ${who}`);
      server = await startServer(['--port', String(port), '--data', data.path]);
      for (const room of ['quiet', 'busy']) curlPost(server.url, room, 'dora', `posted meanwhile in ${room}`);
      for (const [who, room] of [['carl', 'quiet'], ['dana', 'busy']] as const) {
        await tmux.waitForPane(who, (t) => t.includes('* reconnected'), `${who}'s reconnect`);
        curlPost(server.url, room, 'dora', 'after the reconnect');
        const text = await tmux.waitForPane(who, (t) => t.includes('dora: after the reconnect'), `a live line at ${who}`);
        expect(count(text, `dora: posted meanwhile in ${room}`)).toBe(1);
        expect(count(text, 'reconnecting')).toBe(1); // said once, however many retries it took
        expect(count(text, '* reconnected')).toBe(1);
      }
      expect(count(tmux.capture('carl'), 'mine before the restart')).toBe(1);
      expect(count(tmux.capture('dana'), 'dora: before the restart')).toBe(1);

      // Closing their terminals (SIGHUP) ends the clients, their loops and curls, and removes their state.
      const processes = ['carl', 'dana'].flatMap((who) => processTree(tmux.panePid(who)));
      tmux.run('kill-server');
      await waitFor(() => !processes.some(alive), 'the clients to end when their terminals close');
      expect(tmux.leftovers()).toEqual([]);
    } finally {
      await tmux.kill();
      await server.stop();
      data.remove();
    }
  });
});

describe('bin/chat across a restart that lost the history', () => {
  it('shows the reset, then every message the new server has', async () => {
    const port = freePort();
    let server = await startServer(['--port', String(port), '--store', 'memory']);
    const tmux = createTmux();
    try {
      tmux.must('new-session', '-d', '-s', 'erin', '-x', '150', '-y', '40', chat('--url', server.url, '--room', 'gone', '--name', 'erin'));
      await waitFor(async () => (await members(server.url, 'gone')).includes('erin'), 'erin in presence');
      curlPost(server.url, 'gone', 'dora', 'from the old server');
      await tmux.waitForPane('erin', (t) => t.includes('dora: from the old server'), 'the old line');
      expect(await server.stop()).toBe(0);
      await tmux.waitForPane('erin', (t) => t.includes('reconnecting'), 'the notice');
      server = await startServer(['--port', String(port), '--store', 'memory']); // memory: the history is gone
      curlPost(server.url, 'gone', 'dora', 'first on the new server');
      await tmux.waitForPane('erin', (t) => t.includes('is not a message of this server'), 'the reset');
      await tmux.waitForPane('erin', (t) => t.includes('dora: first on the new server'), 'the recent history');
      curlPost(server.url, 'gone', 'dora', 'live on the new server');
      const text = await tmux.waitForPane('erin', (t) => t.includes('dora: live on the new server'), 'a live line');
      expect(count(text, 'dora: first on the new server')).toBe(1);
      expect(count(text, 'is not a message of this server')).toBe(1);
    } finally {
      await tmux.kill();
      await server.stop();
    }
  });
});

describe('bun run launch', () => {
  let launcher: ReturnType<typeof Bun.spawn> | null = null;
  afterEach(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.kill('SIGKILL');
      await launcher.exited;
    }
  });

  /** Runs the launcher headless (no DISPLAY: tmux) with the tmux server's TMPDIR, and collects what it prints. */
  function launch(tmux: Tmux, args: string[]) {
    const { DISPLAY: _x, WAYLAND_DISPLAY: _w, ...env } = process.env;
    const proc = Bun.spawn([BUN, 'run', 'launch', ...args, '--tmux-socket', tmux.socket], {
      cwd: ROOT,
      env: { ...env, TMPDIR: tmux.tmp },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    let out = '';
    for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
      void (async () => {
        for await (const chunk of stream) out += new TextDecoder().decode(chunk);
      })();
    }
    launcher = proc;
    return { proc, output: () => out };
  }

  it('starts the server and a tmux session of 3 panes that all see a message; Ctrl-C leaves nothing behind', async () => {
    const data = tempDir();
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const tmux = createTmux();
    const session = `launch-${port}`;
    const logs = join(data.path, 'logs');
    const { proc, output } = launch(tmux, ['-c', '3', '--port', String(port), '--data', data.path, '--session', session, '--log-dir', logs]);
    const everything = new Set<number>();
    try {
      await waitFor(() => output().includes(`tmux -S ${tmux.socket} attach -t ${session}`), 'the attach line', 30_000);
      const panes = tmux.sessionPanePids(session);
      expect(panes.length).toBe(3);
      await waitFor(async () => (await members(url, 'main')).length === 3, 'three clients in presence');
      for (const pid of [proc.pid, ...panes]) for (const p of processTree(pid)) everything.add(p);
      expect([...everything].map(commandOf).some((c) => c.includes('server.ts'))).toBe(true);

      curlPost(url, 'main', 'zed', 'hello, panes');
      for (let i = 0; i < 3; i++) await tmux.waitForPane(`${session}:0.${i}`, (t) => t.includes('zed: hello, panes'), `the message in pane ${i}`);
      const names = [0, 1, 2].map((i) => tmux.capture(`${session}:0.${i}`).match(/\* (\w+) in room main/)?.[1]);
      expect(new Set(names).size).toBe(3);
      // each pane titled by its client (bin/chat's OSC 0), shown on the pane's border
      const titles = tmux.must('list-panes', '-t', `${session}:0`, '-F', '#{pane_title}').split('\n');
      expect(titles).toEqual(names.map((name) => `#main · ${name}`));
      // --log-dir: each pane's bytes also in its file (script(1) writes the pane and the file one after the other)
      for (const name of names) await waitFor(() => existsSync(join(logs, `${name}.log`)) && readFileSync(join(logs, `${name}.log`), 'utf8').includes('zed: hello, panes'), `${name}.log`);

      const watcher = await openStream(`${url}/rooms/main/events`);
      proc.kill('SIGINT');
      expect(await proc.exited).toBe(0);
      const bye = await watcher.next((e) => e.event === 'bye', 'the server\'s final event');
      expect(JSON.parse(bye.data).reason).toBe('shutdown'); // ended gracefully by the launcher, not killed
      await waitFor(() => ![...everything].some(alive), 'every process of the launcher to end');
      expect(tmux.run('has-session', '-t', session).ok).toBe(false);
      expect((await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
      expect(tmux.leftovers()).toEqual([]); // state file and the clients' state directories removed
    } finally {
      killLeftovers(everything);
      await tmux.kill();
      data.remove();
    }
  });

  it('--help lists every option and exits 0', () => {
    const help = Bun.spawnSync([BUN, 'run', 'launch', '--help'], { cwd: ROOT });
    expect(help.exitCode).toBe(0);
    for (const option of ['--count', '--room', '--names', '--port', '--data', '--store', '--tls-cert', '--tls-key', '--url', '--insecure', '--log-dir', '--no-server', '--tmux', '--session', '--stop', '--help']) {
      expect(help.stdout.toString()).toContain(option);
    }
  });

  it('--tmux: ends by itself, with the server it started, once every client has quit', async () => {
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const tmux = createTmux();
    const session = `quit-${port}`;
    const { proc, output } = launch(tmux, ['--tmux', '-c', '2', '--names', 'uma,vic', '--room', 'quit', '--port', String(port), '--store', 'memory', '--session', session]);
    const everything = new Set<number>();
    try {
      await waitFor(() => output().includes('attach -t'), 'the attach line', 30_000);
      await waitFor(async () => (await members(url, 'quit')).length === 2, 'both clients in presence');
      for (const pid of [proc.pid, ...tmux.sessionPanePids(session)]) for (const p of processTree(pid)) everything.add(p);
      const [first, second] = tmux.must('list-panes', '-t', session, '-F', '#{pane_id}').trim().split('\n') as [string, string];
      tmux.type(first, '/quit');
      await waitFor(async () => (await members(url, 'quit')).length === 1, 'one client left');
      expect(proc.exitCode).toBeNull(); // one client is still there: the launcher stays
      tmux.type(second, '/quit');
      expect(await proc.exited).toBe(0);
      await waitFor(() => ![...everything].some(alive), 'every process of the launcher to end');
      expect((await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
    } finally {
      killLeftovers(everything);
      await tmux.kill();
    }
  });

  it('--no-server uses a running server, and --stop ends the clients but not a server it did not start', async () => {
    const data = tempDir();
    const server = await startServer(['--data', data.path]);
    const tmux = createTmux();
    const session = `stop-${server.port}`;
    const { proc, output } = launch(tmux, ['-c', '1', '--names', 'solo', '--room', 'stop', '--port', String(server.port), '--no-server', '--session', session]);
    const clients = new Set<number>();
    try {
      await waitFor(() => output().includes('attach -t'), 'the attach line', 30_000);
      expect(output()).toContain('using the server already answering');
      await waitFor(async () => (await members(server.url, 'stop')).includes('solo'), 'solo in presence');
      for (const p of processTree(tmux.panePid(session))) clients.add(p);

      expect(tmux.leftovers().some((f) => f.startsWith('threadchat-launch-'))).toBe(true); // its state file
      const stop = Bun.spawnSync([BUN, 'run', 'launch', '--stop', '--port', String(server.port)], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmux.tmp },
      });
      expect(stop.exitCode).toBe(0);
      expect(await proc.exited).toBe(0);
      await waitFor(() => ![...clients].some(alive), 'the client to end');
      expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
      expect(tmux.leftovers()).toEqual([]); // state file and the client's state directory removed
    } finally {
      killLeftovers(clients);
      await tmux.kill();
      await server.stop();
      data.remove();
    }
  });

  it('refuses a bad -c with a clear message and a non-zero exit', () => {
    for (const bad of ['0', '-1', 'three', '51', '2.5']) {
      const run = Bun.spawnSync([BUN, 'run', 'launch', '-c', bad], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
      expect(run.exitCode).toBe(2);
      expect(run.stderr.toString()).toContain(`-c must be a whole number from 1 to 50 (got "${bad}")`);
    }
  });
});
