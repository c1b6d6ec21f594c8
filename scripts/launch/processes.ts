/** What the launcher knows of the processes it started: whether they still run, and waits for them. */
import { readFileSync } from 'node:fs';

export const say = (line: string) => process.stdout.write(`launch: ${line}\n`);

/** Running, and not a zombie (this machine's init may never reap orphans). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(readTextOr(`/proc/${pid}/stat`) ?? ''); // without /proc, kill(0) is all we know
}

/** Whether a PID from the state file still runs `what` (not reused by another program); true without /proc. */
export const runs = (pid: number, what: string) => alive(pid) && (readTextOr(`/proc/${pid}/cmdline`)?.includes(what) ?? true);
function readTextOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Polls `check` every 100 ms for up to `ms`; says `progress` every 3 s so a long wait is not silent. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, progress?: string): Promise<boolean> {
  const start = Date.now();
  let told = start;
  while (!(await check())) {
    if (Date.now() - start > ms) return false;
    if (progress && Date.now() - told >= 3000) {
      told = Date.now();
      say(`${progress} (${Math.round((told - start) / 1000)} s)...`);
    }
    await Bun.sleep(100);
  }
  return true;
}
