/** Helpers for the launcher's tests under X: a private Xvfb, the windows its X server holds, a PATH without some programs. */
import { mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers.ts';
import { alive } from './terminal-helpers.ts';

/**
 * Starts Xvfb on the first free display; `-displayfd 1` makes it print the number it took once it accepts clients,
 * so nothing races another X server on this machine.
 */
export async function startXvfb() {
  const proc = Bun.spawn(['Xvfb', '-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], { stdout: 'pipe', stderr: 'pipe' });
  let out = '';
  void (async () => {
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
  })();
  const number = await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`Xvfb exited with ${proc.exitCode}: is it installed (apt-get install xvfb)?`);
    return out.match(/^(\d+)\n/)?.[1];
  }, 'Xvfb to print its display number', 15_000);
  const display = `:${number}`;
  return {
    display,
    pid: proc.pid,
    /** The windows of this X server titled `threadchat: ...` that are mapped: their id and title. */
    chatWindows(): { id: string; title: string }[] {
      const tree = Bun.spawnSync(['xwininfo', '-root', '-tree'], { env: { ...process.env, DISPLAY: display }, stdout: 'pipe', stderr: 'pipe' });
      if (tree.exitCode !== 0) throw new Error(`xwininfo failed (apt-get install x11-utils): ${tree.stderr}`);
      const windows = [...tree.stdout.toString().matchAll(/^\s*(0x[0-9a-f]+) "(threadchat: [^"]*)"/gm)].map((m) => ({ id: m[1]!, title: m[2]! }));
      return windows.filter(({ id }) => {
        const info = Bun.spawnSync(['xwininfo', '-id', id], { env: { ...process.env, DISPLAY: display }, stdout: 'pipe', stderr: 'pipe' });
        return /Map State: IsViewable/.test(info.stdout.toString()); // a window closing between the two calls is gone
      });
    },
    async stop() {
      if (!alive(proc.pid)) return;
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}
export type Xvfb = Awaited<ReturnType<typeof startXvfb>>;

/**
 * A directory of links to every program on $PATH except `hidden`, to use as the only PATH: the launcher then
 * finds what a machine without those programs would offer.
 */
export function pathWithout(hidden: string[]) {
  const dir = tempDir('threadchat-path-');
  const bin = join(dir.path, 'bin');
  mkdirSync(bin);
  const linked = new Set(hidden);
  for (const from of (process.env.PATH ?? '').split(':')) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (linked.has(name)) continue;
      try {
        if (!(statSync(join(from, name)).mode & 0o111)) continue;
      } catch {
        continue; // a dangling link
      }
      symlinkSync(join(from, name), join(bin, name));
      linked.add(name);
    }
  }
  return { path: bin, remove: dir.remove };
}
