/**
 * For the data-folder tests: small and read-only file systems under a server's --data, servers that must refuse
 * to start, and a room's whole history read back.
 */
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SERVER_COMMAND, tempDir, waitFor } from '../helpers.ts';

/** Mounting needs root (CI runs as root); without it the tests use the fallbacks each one names. */
export const IS_ROOT = process.getuid?.() === 0;

function run(command: string[]) {
  const done = Bun.spawnSync(command, { stdout: 'pipe', stderr: 'pipe' });
  if (done.exitCode !== 0) throw new Error(`${command.join(' ')} failed (${done.exitCode}): ${done.stderr.toString()}`);
}

export interface Folder {
  path: string;
  /** No more writes: the tmpfs remounted read-only as root (root ignores file modes), else every mode without w. */
  makeReadOnly(): void;
  /** Unmounts (if mounted) and removes it; safe to call twice. */
  remove(): void;
}

/** A fresh directory with a tmpfs of `size` mounted on it (root only). */
export function mountTmpfs(size: string): Folder {
  const dir = tempDir('threadchat-disk-');
  run(['mount', '-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir.path]);
  let mounted = true;
  return {
    path: dir.path,
    makeReadOnly: () => run(['mount', '-o', 'remount,ro', dir.path]),
    remove() {
      // Lazy: a server that failed to stop still holds files, and the mount must not outlive the test anyway.
      if (mounted) Bun.spawnSync(['umount', '-l', dir.path]);
      mounted = false;
      dir.remove();
    },
  };
}

/** A folder that can be made read-only: a tmpfs as root, else a plain directory whose modes lose their w. */
export function writableFolder(): Folder {
  if (IS_ROOT) return mountTmpfs('8m');
  const dir = tempDir('threadchat-ro-');
  const setModes = (dirMode: number, fileMode: number) => {
    for (const name of readdirSync(dir.path)) chmodSync(join(dir.path, name), fileMode);
    chmodSync(dir.path, dirMode);
  };
  return {
    path: dir.path,
    makeReadOnly: () => setModes(0o555, 0o444),
    remove() {
      setModes(0o755, 0o644);
      dir.remove();
    },
  };
}

export interface Refusal {
  /** The exit status; null when it had to be stopped because it started. */
  code: number | null;
  started: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Starts a server that should refuse to start, and waits (with a deadline) for it to exit by itself. One that
 * prints its URL instead is stopped and reported as `started`.
 */
export async function refusedStart(args: string[], ms = 20_000): Promise<Refusal> {
  const proc = Bun.spawn([...SERVER_COMMAND, '--port', '0', '--log', 'silent', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  let stdout = '';
  let stderr = '';
  const pump = async (stream: ReadableStream<Uint8Array>, into: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) into(decoder.decode(chunk, { stream: true }));
  };
  const pumped = Promise.all([
    pump(proc.stdout as ReadableStream<Uint8Array>, (t) => (stdout += t)),
    pump(proc.stderr as ReadableStream<Uint8Array>, (t) => (stderr += t)),
  ]);
  let started = false;
  try {
    await waitFor(() => {
      started = /listening on/.test(stdout);
      return started || proc.exitCode !== null;
    }, 'the server to exit (or start)', ms);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
  await proc.exited;
  await pumped;
  return { code: started ? null : proc.exitCode, started, stdout, stderr };
}

/** The lines a refusal wrote to stderr, without empty ones. */
export const stderrLines = (refusal: Refusal) => refusal.stderr.split('\n').filter((line) => line.trim() !== '');

/** Every message a server holds for `room`, oldest first, read through its history API page by page. */
export async function allMessages(base: string, room: string): Promise<{ id: string; text: string }[]> {
  const all: { id: string; text: string }[] = [];
  for (let after = '0'; ; ) {
    const res = await fetch(`${base}/rooms/${room}/messages?after=${after}&limit=1000`);
    if (res.status !== 200) throw new Error(`history answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { messages: { id: string; text: string }[]; more: boolean };
    all.push(...page.messages);
    if (!page.more || page.messages.length === 0) return all;
    after = page.messages.at(-1)!.id;
  }
}
