/**
 * `bun run launch -c 3` with a display: a private Xvfb, the launcher run in a tmux pane (so Ctrl-C is a real one:
 * the terminal's SIGINT to the launcher's whole process group), once finding terminator and once with only xterm
 * on its PATH. Windows are counted from the X server, and what each window shows is read back from the byte
 * stream its terminal got (--log-dir: script(1) between the terminal and the client) and, for terminator, from
 * the text its VTE widget holds (a plugin of the test's own, fixtures/terminator_screen_text.py). Each window is
 * titled `#main · NAME` by its client (OSC 0), and the launcher tiles them: no window covers another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUN, ROOT, tempDir, waitFor } from '../helpers.ts';
import { alive, commandOf, createTmux, freePort, killLeftovers, processTree } from './terminal-helpers.ts';
import { pathWithout, startXvfb, type Xvfb } from './x11-helpers.ts';

const NAMES = ['alice', 'bob', 'carol'];
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function members(url: string): Promise<string[]> {
  return ((await (await fetch(`${url}/rooms/main/members`)).json()) as { members: string[] }).members;
}

/** A window of the X server: where it is (its border included) and its title. */
interface Placed { id: string; title: string; x: number; y: number; width: number; height: number }

/** The mapped windows of `display` titled `#main · ...` (bin/chat's title, OSC 0), with their rectangles. */
function chatWindows(display: string): Placed[] {
  const run = (args: string[]) => Bun.spawnSync(['xwininfo', ...args], { env: { ...process.env, DISPLAY: display }, stdout: 'pipe', stderr: 'pipe' });
  const tree = run(['-root', '-tree']);
  if (tree.exitCode !== 0) throw new Error(`xwininfo failed (apt-get install x11-utils): ${tree.stderr}`);
  const placed: Placed[] = [];
  for (const [, id, title] of tree.stdout.toString().matchAll(/^\s*(0x[0-9a-f]+) "(#main · [^"]*)"/gm)) {
    const info = run(['-id', id!]).stdout.toString(); // a window closing between the two calls is gone
    if (!/Map State: IsViewable/.test(info)) continue;
    const field = (name: string) => Number(info.match(new RegExp(`${name}:\\s+(-?\\d+)`))?.[1]);
    const border = field('Border width');
    // xwininfo's upper-left is the outer corner of the border; Width and Height are inside it
    placed.push({ id: id!, title: title!, x: field('Absolute upper-left X'), y: field('Absolute upper-left Y'), width: field('Width') + 2 * border, height: field('Height') + 2 * border });
  }
  return placed;
}

/** Pairs of windows that overlap, and windows not wholly on the 1280x1024 screen (x11-helpers' Xvfb). */
function badPlacing(windows: Placed[]): string[] {
  const bad: string[] = [];
  for (const w of windows) if (w.x < 0 || w.y < 0 || w.x + w.width > 1280 || w.y + w.height > 1024) bad.push(`${w.title} off the screen`);
  windows.forEach((a, i) => {
    for (const b of windows.slice(i + 1)) {
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) bad.push(`${a.title} overlaps ${b.title}`);
    }
  });
  return bad;
}

/** Every process whose command line names `needle` (catches one that left the launcher's tree). */
const processesNaming = (needle: string) => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && alive(Number(p)) && commandOf(Number(p)).includes(needle)).map(Number);

describe('bun run launch under X (Xvfb)', () => {
  let x: Xvfb;
  beforeAll(async () => {
    x = await startXvfb();
  });
  afterAll(async () => {
    await x.stop();
  });

  /**
   * Launches 3 clients and checks them from the X server, the server and their windows; then ends the launcher
   * with a Ctrl-C in its pane (which reaches its whole process group, as from any terminal), or with
   * `bun run launch --stop` from elsewhere (only the launcher is told: it must end the windows itself).
   */
  async function launchAndEnd(terminal: 'terminator' | 'xterm', path: string, end: 'ctrl-c' | 'stop') {
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const home = tempDir('threadchat-x11-home-');
    const logs = join(home.path, 'logs');
    const runtime = join(home.path, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const screens = join(home.path, 'screens');
    mkdirSync(screens);
    if (terminal === 'terminator') {
      const config = join(home.path, 'config', 'terminator');
      mkdirSync(join(config, 'plugins'), { recursive: true });
      copyFileSync(join(import.meta.dir, 'fixtures', 'terminator_screen_text.py'), join(config, 'plugins', 'terminator_screen_text.py'));
      writeFileSync(join(config, 'config'), '[global_config]\n  enabled_plugins = ScreenText\n');
    }
    const tmux = createTmux();
    // A clean desktop session: a fresh HOME and XDG directories (terminator's config starts empty), no D-Bus.
    const env = {
      PATH: path, HOME: home.path, DISPLAY: x.display, LANG: 'C.UTF-8', TMPDIR: tmux.tmp, XDG_RUNTIME_DIR: runtime,
      XDG_CONFIG_HOME: join(home.path, 'config'), XDG_CACHE_HOME: join(home.path, 'cache'), XDG_DATA_HOME: join(home.path, 'share'),
      THREADCHAT_SCREEN_DIR: screens, // terminator's windows write their text here (fixtures/terminator_screen_text.py)
    };
    const launch = [BUN, 'run', 'launch', '-c', '3', '--port', String(port), '--store', 'memory', '--log-dir', logs];
    const line = `cd ${quote(ROOT)} && env -i ${Object.entries(env).map(([k, v]) => quote(`${k}=${v}`)).join(' ')} ${launch.map(quote).join(' ')}; echo "launcher exited $?"; exec sleep 600`;
    tmux.must('new-session', '-d', '-s', 'launch', '-x', '200', '-y', '50', line);
    const pane = 'launch:0.0';
    const everything = new Set<number>();
    try {
      await tmux.waitForPane(pane, (t) => t.includes('ends the clients and the server'), 'the launcher to be up', 40_000);
      expect(tmux.capture(pane)).toContain(`opening 3 clients in ${terminal}`);
      const titles = NAMES.map((n) => `#main · ${n}`); // each client names its window
      const windows = await waitFor(() => {
        const open = chatWindows(x.display);
        return open.length >= 3 ? open : null;
      }, 'three windows on the X server titled by their clients', 20_000).catch((error: Error) => {
        const tree = Bun.spawnSync(['xwininfo', '-root', '-tree'], { env: { ...process.env, DISPLAY: x.display }, stdout: 'pipe', stderr: 'pipe' });
        throw new Error(`${error.message}: the X server has\n${tree.stdout}${tree.stderr}\n--- the launcher's pane ---\n${tmux.capture(pane)}`);
      });
      expect(windows.map((w) => w.title).sort()).toEqual(titles);
      // Side by side: no window hides another, all on the screen, each big enough to chat in.
      await waitFor(() => badPlacing(chatWindows(x.display)).length === 0, 'the windows to be tiled', 10_000).catch(() => {
        throw new Error(`the windows are not tiled: ${badPlacing(chatWindows(x.display)).join('; ')}\n${JSON.stringify(chatWindows(x.display))}`);
      });
      for (const w of chatWindows(x.display)) expect(Math.min(w.width, w.height)).toBeGreaterThanOrEqual(300);
      await waitFor(async () => (await members(url)).sort().join() === NAMES.join(), 'alice, bob and carol in presence', 20_000);
      for (const p of processTree(tmux.panePid(pane))) everything.add(p);
      const commands = [...everything].map(commandOf);
      const clients = commands.map((c) => c.match(/bin\/chat --url \S+ --room main --name (\w+)$/)?.[1]).filter(Boolean);
      expect([...new Set(clients)].sort()).toEqual(NAMES); // bash runs each client as two processes (its stream loop)
      expect(commands.some((c) => c.includes('server.ts'))).toBe(true);

      const posted = Bun.spawnSync(['curl', '-sS', '-d', 'hello, windows', `${url}/rooms/main/messages?name=zed`]);
      expect(posted.exitCode).toBe(0);
      for (const name of NAMES) {
        const log = join(logs, `${name}.log`);
        const shown = await waitFor(() => {
          const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
          return text.includes('zed: hello, windows') && text;
        }, `the message in ${name}'s window`);
        expect(shown).toContain(`* ${name} in room main`); // this window is that client's
        if (terminal !== 'terminator') continue;
        // terminator: the text VTE holds for the window titled for this client, what the window draws
        const screen = join(screens, `#main · ${name}.txt`);
        await waitFor(() => existsSync(screen) && /\[\d\d:\d\d:\d\d\] zed: hello, windows/.test(readFileSync(screen, 'utf8')), `the message on ${name}'s screen`, 20_000);
        expect(readFileSync(screen, 'utf8')).toContain(`* ${name} in room main`);
      }

      if (end === 'ctrl-c') tmux.must('send-keys', '-t', pane, 'C-c');
      else expect(Bun.spawnSync([BUN, 'run', 'launch', '--stop', '--port', String(port)], { cwd: ROOT, env: { ...process.env, ...env } }).exitCode).toBe(0);
      await tmux.waitForPane(pane, (t) => t.includes('launcher exited'), 'the launcher to exit', 30_000);
      expect(tmux.capture(pane)).toContain('launcher exited 0');
      await waitFor(() => chatWindows(x.display).length === 0, 'every window to close');
      const launcher = [...everything].filter((p) => p !== tmux.panePid(pane));
      await waitFor(() => !launcher.some(alive), 'every process the launcher started to end');
      expect(processesNaming(`127.0.0.1:${port}`)).toEqual([]); // no client, terminal or script anywhere
      expect(processesNaming(`--port ${port}`)).toEqual([]); // no server
      expect((await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
      expect(tmux.leftovers()).toEqual([]); // the state file and the clients' state directories removed
    } finally {
      killLeftovers([...everything].filter((p) => p !== process.pid));
      await tmux.kill();
      home.remove();
    }
  }

  it('terminator: three windows on the X server, all in the room, all showing a message; Ctrl-C leaves nothing', async () => {
    await launchAndEnd('terminator', process.env.PATH ?? '', 'ctrl-c');
  }, 90_000);

  it('xterm only (no terminator, no x-terminal-emulator on PATH): the same', async () => {
    const path = pathWithout(['terminator', 'x-terminal-emulator', 'gnome-terminal', 'konsole']);
    try {
      await launchAndEnd('xterm', path.path, 'ctrl-c');
    } finally {
      path.remove();
    }
  }, 90_000);

  it('terminator: bun run launch --stop from elsewhere closes the windows and ends everything too', async () => {
    await launchAndEnd('terminator', process.env.PATH ?? '', 'stop');
  }, 90_000);
});
