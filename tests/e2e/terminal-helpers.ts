/** Helpers for the terminal tests: a private tmux server, pane captures with deadlines, process trees. */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers.ts';

/**
 * A tmux server on its own socket in a temporary directory (`tmux -S`), so tests touch no one else's sessions; the
 * same directory serves as TMPDIR for the clients, so a test can check that they cleaned up after themselves.
 */
export function createTmux() {
  const dir = tempDir('threadchat-tmux-');
  const socket = join(dir.path, 'tmux.sock');
  const tmp = join(dir.path, 'tmp');
  mkdirSync(tmp);
  const run = (...args: string[]) => {
    const result = Bun.spawnSync(['tmux', '-S', socket, '-f', '/dev/null', ...args], {
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, TMPDIR: tmp },
    });
    return { ok: result.exitCode === 0, out: result.stdout.toString(), err: result.stderr.toString() };
  };
  const must = (...args: string[]) => {
    const result = run(...args);
    if (!result.ok) throw new Error(`tmux ${args.join(' ')} failed: ${result.err}`);
    return result.out.trim();
  };
  /** Everything a pane shows, scrollback included, wrapped lines joined. */
  const capture = (target: string) => run('capture-pane', '-p', '-J', '-S', '-', '-t', target).out;
  return {
    socket,
    /** TMPDIR of everything this tmux server runs. */
    tmp,
    /** What the clients left in their TMPDIR (their state directories, until they exit). */
    leftovers: () => readdirSync(tmp),
    run,
    must,
    capture,
    /** Polls the pane until `check` passes; the error shows what the pane held. */
    async waitForPane(target: string, check: (text: string) => boolean, what: string, ms = 15_000): Promise<string> {
      try {
        return await waitFor(() => {
          const text = capture(target);
          return check(text) ? text : null;
        }, what, ms);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- pane ${target} ---\n${capture(target)}`);
      }
    },
    /** Types a line into a pane (literally) and presses Enter. */
    type(target: string, line: string) {
      must('send-keys', '-t', target, '-l', line);
      must('send-keys', '-t', target, 'Enter');
    },
    /** The PID of the process a pane runs. */
    panePid: (target: string) => Number(must('display-message', '-p', '-t', target, '#{pane_pid}')),
    /** The PIDs of every pane of a session. */
    sessionPanePids: (session: string) => must('list-panes', '-s', '-t', session, '-F', '#{pane_pid}').split('\n').map(Number),
    /** `1 CODE` once the pane's process exited (panes stay with remain-on-exit), `1 ` if a signal ended it. */
    paneStatus: (target: string) => run('display-message', '-p', '-t', target, '#{pane_dead} #{pane_dead_status}').out.replace(/\n$/, ''),
    serverPid: () => Number(run('display-message', '-p', '#{pid}').out.trim()) || null,
    /** Ends this tmux server and, by PID, anything of it still running. */
    async kill() {
      try {
        const pid = this.serverPid();
        run('kill-server');
        if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      } finally {
        dir.remove();
      }
    },
  };
}
export type Tmux = ReturnType<typeof createTmux>;

export const count = (text: string, needle: string) => text.split(needle).length - 1;

function stat(pid: number): { ppid: number; state: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

/** Running and not a zombie (this machine's init does not reap orphans, so zombies linger). */
export const alive = (pid: number) => {
  const s = stat(pid);
  return s !== null && s.state !== 'Z';
};

/** `pid` and every live process below it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s && s.state !== 'Z') children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const walk = (p: number) => {
    if (alive(p)) tree.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return tree;
}

export const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
};

/** A port nothing listens on right now (the OS picks it), to pass to a server explicitly. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Kills by PID whatever in `pids` still runs (cleanup after a failed test). */
export function killLeftovers(pids: Iterable<number>) {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}
