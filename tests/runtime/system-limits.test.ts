import { describe, expect, it } from 'bun:test';
import { readdirSync } from 'node:fs';
import { cgroupDirs, nprocApplies, nprocLimit, ownThreadCount, readSystemLimits } from '../../runtime/system-limits.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             50                   96367                processes
Max open files            1048576              1048576              files
`;

describe('the limits read from /proc', () => {
  it("reads RLIMIT_NPROC's soft limit from /proc/self/limits; unlimited is none", () => {
    expect(nprocLimit(LIMITS)).toBe(50);
    expect(nprocLimit(LIMITS.replace('50                ', 'unlimited         '))).toBeNull();
    expect(nprocLimit(null)).toBeNull();
  });

  it('applies RLIMIT_NPROC only to a user who is not root and lacks CAP_SYS_ADMIN and CAP_SYS_RESOURCE', () => {
    const status = (uid: number, capEff: string) => `Name:\tbun\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nThreads:\t9\nCapEff:\t${capEff}\n`;
    expect(nprocApplies(status(65534, '0000000000000000'))).toBe(true);
    expect(nprocApplies(status(0, '0000000000000000'))).toBe(false);
    expect(nprocApplies(status(1000, (1n << 24n).toString(16).padStart(16, '0')))).toBe(false); // CAP_SYS_RESOURCE
    expect(nprocApplies(status(1000, (1n << 21n).toString(16).padStart(16, '0')))).toBe(false); // CAP_SYS_ADMIN
    expect(nprocApplies(null)).toBe(false);
  });

  it("finds the process's cgroup folders up to the root, v1 per controller and v2 in one hierarchy", () => {
    const v1 = '9:name=systemd:/\n8:pids:/user.slice/app\n4:memory:/app\n0::/';
    expect(cgroupDirs(v1, 'pids', null)).toEqual(['/sys/fs/cgroup/pids/user.slice/app', '/sys/fs/cgroup/pids/user.slice', '/sys/fs/cgroup/pids']);
    expect(cgroupDirs(v1, 'memory', null)).toEqual(['/sys/fs/cgroup/memory/app', '/sys/fs/cgroup/memory']);
    expect(cgroupDirs('0::/system.slice/chat.service\n', 'pids', '/sys/fs/cgroup')).toEqual([
      '/sys/fs/cgroup/system.slice/chat.service', '/sys/fs/cgroup/system.slice', '/sys/fs/cgroup',
    ]);
    expect(cgroupDirs('0::/\n', 'memory', '/sys/fs/cgroup')).toEqual(['/sys/fs/cgroup']); // inside a cgroup namespace
    expect(cgroupDirs('0::/x\n', 'memory', null)).toEqual([]);
  });

  it('reads this machine: its threads, the kernel limit, the memory available', () => {
    const limits = readSystemLimits();
    const own = readdirSync('/proc/self/task').length;
    expect(Math.abs(limits.ownThreads - own)).toBeLessThanOrEqual(4);
    expect(Math.abs(ownThreadCount()! - own)).toBeLessThanOrEqual(4);
    const kernel = limits.threads.find((l) => l.name === 'kernel.threads-max')!;
    expect(kernel.max).toBeGreaterThan(kernel.used);
    expect(kernel.used).toBeGreaterThanOrEqual(own);
    expect(limits.memory.find((l) => l.name === 'MemAvailable')!.available).toBeGreaterThan(64 * 1024 * 1024);
    // RLIMIT_NPROC is counted for a user it binds, with every task of that user: at least this process's.
    const nproc = limits.threads.find((l) => l.name.startsWith('RLIMIT_NPROC'));
    if (process.getuid?.() === 0) expect(nproc).toBeUndefined();
    else if (nproc) expect(nproc.used).toBeGreaterThanOrEqual(own - 4);
  });
});
