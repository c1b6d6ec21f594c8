/**
 * The limits on threads and memory this process runs under, read from Linux's /proc and cgroup files, for
 * runtime/thread-budget.ts. Where a file is missing (another OS, a cgroup without that controller) its limit is
 * left out: the budget then rests on the others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MemoryLimit, SystemLimits, ThreadLimit } from './thread-budget.ts';

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** A field of a `Key:   value` file (/proc/PID/status, /proc/meminfo): its first number, or null. */
function field(text: string | null, key: string): number | null {
  const match = text?.match(new RegExp(`^${key}:\\s*(\\d+)`, 'm'));
  return match ? Number(match[1]) : null;
}

/** A cgroup file's number; null for `max`, a missing file, or a v1 "no limit" (near 2^63). */
function cgroupNumber(path: string): number | null {
  const text = read(path)?.trim();
  if (!text || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= 2 ** 60 ? null : n;
}

/**
 * The folders of this process's cgroup for a controller, from its own up to the root: a parent's limit binds its
 * children too. cgroup v2 (one hierarchy, `0::/path`, mounted at `unified`: null when it is not mounted with its
 * controllers at /sys/fs/cgroup) or v1 (`N:pids:/path`, mounted per controller).
 */
export function cgroupDirs(selfCgroup: string | null, controller: 'pids' | 'memory', unified: string | null): string[] {
  const dirs: string[] = [];
  for (const line of (selfCgroup ?? '').split('\n')) {
    const [id, controllers, path] = line.split(':', 3) as [string, string | undefined, string | undefined];
    if (path === undefined || controllers === undefined) continue;
    const base = id === '0' && controllers === '' ? unified
      : controllers.split(',').includes(controller) ? `/sys/fs/cgroup/${controller}` : null;
    if (!base) continue;
    // Inside a cgroup namespace the path is `/`; outside one it names the folder under the mount.
    for (let p = path.replace(/\/+$/, ''); ; p = p.slice(0, p.lastIndexOf('/'))) {
      dirs.push(`${base}${p}`);
      if (p === '') break;
    }
  }
  return dirs;
}

/** RLIMIT_NPROC's soft limit from /proc/self/limits ("Max processes"), or null when unlimited. */
export function nprocLimit(limitsText: string | null): number | null {
  const match = limitsText?.match(/^Max processes\s+(\S+)/m);
  return match && /^\d+$/.test(match[1]!) ? Number(match[1]) : null;
}

/**
 * RLIMIT_NPROC binds a task whose real uid is not root and who lacks CAP_SYS_ADMIN (21) and CAP_SYS_RESOURCE (24),
 * as the kernel's copy_process() checks it.
 */
export function nprocApplies(selfStatus: string | null): boolean {
  const uid = selfStatus?.match(/^Uid:\s*(\d+)/m)?.[1];
  const caps = selfStatus?.match(/^CapEff:\s*([0-9a-f]+)/m)?.[1];
  if (uid === undefined || uid === '0') return false;
  const eff = caps ? BigInt(`0x${caps}`) : 0n;
  return (eff & ((1n << 21n) | (1n << 24n))) === 0n;
}

/** Tasks (threads) of every process whose real uid is `uid`: what RLIMIT_NPROC counts. */
function tasksOfUser(uid: string): number {
  let tasks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = read(`/proc/${name}/status`); // null when it exited meanwhile
    if (status?.match(/^Uid:\s*(\d+)/m)?.[1] === uid) tasks += field(status, 'Threads') ?? 1;
  }
  return tasks;
}

/** This process's threads now (field 20 of /proc/self/stat, after the command's closing parenthesis), or null off Linux. */
export function ownThreadCount(): number | null {
  const stat = read('/proc/self/stat');
  if (!stat) return null;
  const n = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[17]);
  return Number.isFinite(n) ? n : null;
}

/** Every limit on this process's threads and memory that Linux tells of. */
export function readSystemLimits(): SystemLimits {
  const status = read('/proc/self/status');
  const selfCgroup = read('/proc/self/cgroup');
  const unified = read('/sys/fs/cgroup/cgroup.controllers') !== null ? '/sys/fs/cgroup' : null;
  const threads: ThreadLimit[] = [];
  const memory: MemoryLimit[] = [];

  const nproc = nprocLimit(read('/proc/self/limits'));
  if (nproc !== null && nprocApplies(status)) {
    const uid = status!.match(/^Uid:\s*(\d+)/m)![1]!;
    threads.push({ name: 'RLIMIT_NPROC (ulimit -u)', max: nproc, used: tasksOfUser(uid) });
  }
  for (const dir of cgroupDirs(selfCgroup, 'pids', unified)) {
    const max = cgroupNumber(`${dir}/pids.max`);
    const used = cgroupNumber(`${dir}/pids.current`);
    if (max !== null && used !== null) threads.push({ name: `the cgroup's pids.max (${dir})`, max, used });
  }
  const threadsMax = Number(read('/proc/sys/kernel/threads-max')?.trim());
  const allThreads = Number(read('/proc/loadavg')?.split(' ')[3]?.split('/')[1]); // runnable/total tasks
  if (threadsMax > 0 && allThreads > 0) threads.push({ name: 'kernel.threads-max', max: threadsMax, used: allThreads });

  const available = field(read('/proc/meminfo'), 'MemAvailable');
  if (available !== null) memory.push({ name: 'MemAvailable', available: available * 1024 });
  for (const dir of cgroupDirs(selfCgroup, 'memory', unified)) {
    const max = cgroupNumber(`${dir}/memory.max`) ?? cgroupNumber(`${dir}/memory.limit_in_bytes`);
    const used = cgroupNumber(`${dir}/memory.current`) ?? cgroupNumber(`${dir}/memory.usage_in_bytes`);
    if (max !== null && used !== null) memory.push({ name: `the cgroup's memory limit (${dir})`, available: Math.max(0, max - used) });
  }
  return { threads, memory, ownThreads: field(status, 'Threads') ?? 1 };
}
