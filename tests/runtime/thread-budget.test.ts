import { describe, expect, it } from 'bun:test';
import { MEMORY_SHARE, OWN_THREADS, SPARE_THREADS, STREAM_BYTES, THREADS_PER_WORKER, spawnGuard, threadBudget, type SystemLimits } from '../../runtime/thread-budget.ts';

const GB = 1024 ** 3;
const limits = (over: Partial<SystemLimits> = {}): SystemLimits => ({ threads: [], memory: [], ownThreads: 9, ...over });
const nproc = (max: number, used: number) => ({ name: 'RLIMIT_NPROC (ulimit -u)', max, used });

describe('threadBudget', () => {
  it('keeps --max-streams when nothing limits it', () => {
    expect(threadBudget(limits(), 'bun', 5000)).toMatchObject({ maxStreams: 5000, processThreads: Infinity, lowered: null });
    expect(threadBudget(limits(), 'bun', 5000).maxWorkers).toBeGreaterThanOrEqual(5000);
  });

  it('fits the Workers under RLIMIT_NPROC, less the runtime’s own threads, at the runtime’s threads per Worker', () => {
    // ulimit -u 50 and this process the only one of its user: all 50 are ours.
    const bun = threadBudget(limits({ threads: [nproc(50, 9)] }), 'bun', 5000);
    expect(bun.maxWorkers).toBe(Math.floor((50 - OWN_THREADS.bun) / THREADS_PER_WORKER.bun));
    expect(bun).toMatchObject({ maxStreams: bun.maxWorkers, processThreads: 50 });
    expect(bun.lowered).toBe(`max-streams lowered from 5000 to ${bun.maxWorkers}: 50 threads left under RLIMIT_NPROC (ulimit -u), ${OWN_THREADS.bun} of them kept for bun's own`);
    const node = threadBudget(limits({ threads: [nproc(50, 9)] }), 'node', 5000);
    expect(node.maxWorkers).toBe(50 - OWN_THREADS.node);
  });

  it("counts the user's other tasks against the limit, not this process's own", () => {
    const budget = threadBudget(limits({ threads: [nproc(100, 9 + 40)] }), 'node', 5000); // 40 tasks elsewhere
    expect(budget.processThreads).toBe(60);
    expect(budget.maxStreams).toBe(60 - OWN_THREADS.node);
  });

  it('takes the smallest of the thread limits (a cgroup’s pids.max, kernel.threads-max)', () => {
    const budget = threadBudget(limits({ threads: [nproc(1000, 9), { name: "the cgroup's pids.max", max: 100, used: 29 }] }), 'node', 5000);
    expect(budget.processThreads).toBe(80);
    expect(budget.maxStreams).toBe(80 - OWN_THREADS.node);
    expect(budget.lowered).toContain("80 threads left under the cgroup's pids.max");
  });

  it('fits the Workers in a share of the memory available, at what a stream costs on that runtime', () => {
    const memory = [{ name: 'MemAvailable', available: 23.5 * GB }];
    const node = threadBudget(limits({ memory }), 'node', 5000);
    expect(node.maxStreams).toBe(Math.floor((23.5 * GB * MEMORY_SHARE) / STREAM_BYTES.node));
    expect(node.maxStreams).toBeGreaterThan(1700);
    expect(node.maxStreams).toBeLessThan(1900);
    expect(node.lowered).toBe(`max-streams lowered from 5000 to ${node.maxStreams}: 70% of 23.5 GB of MemAvailable, at 9.1 MB per stream on node`);
    // The same memory holds 5000 streams on Bun (2.3 MB each): nothing lowered.
    expect(threadBudget(limits({ memory }), 'bun', 5000)).toMatchObject({ maxStreams: 5000, lowered: null });
    // A cgroup's memory.max is a limit like any other.
    const small = threadBudget(limits({ memory: [...memory, { name: "the cgroup's memory limit", available: 1 * GB }] }), 'bun', 5000);
    expect(small.maxStreams).toBe(Math.floor((GB * MEMORY_SHARE) / STREAM_BYTES.bun));
    expect(small.lowered).toContain("of the cgroup's memory limit");
  });

  it('says why by the limit that binds, and never goes below zero', () => {
    const both = threadBudget(limits({ threads: [nproc(200, 9)], memory: [{ name: 'MemAvailable', available: 0.5 * GB }] }), 'node', 5000);
    expect(both.maxStreams).toBe(Math.floor((0.5 * GB * MEMORY_SHARE) / STREAM_BYTES.node)); // 39, under the 180 threads allow
    expect(both.lowered).toContain('MemAvailable');
    const none = threadBudget(limits({ threads: [nproc(30, 40)] }), 'bun', 5000);
    expect(none).toMatchObject({ maxStreams: 0, maxWorkers: 0, processThreads: 0 });
  });

  it('keeps a --max-streams that fits as it is', () => {
    expect(threadBudget(limits({ threads: [nproc(50, 9)] }), 'node', 10)).toMatchObject({ maxStreams: 10, maxWorkers: 30, lowered: null });
  });
});

describe('spawnGuard', () => {
  it(`says no once the process has no more than ${SPARE_THREADS} threads left under its budget`, () => {
    const budget = threadBudget(limits({ threads: [nproc(50, 9)] }), 'bun', 5000);
    let now = 0;
    const guard = spawnGuard(budget, () => now);
    now = 50 - SPARE_THREADS - 1;
    expect(guard()).toBe(true);
    now = 50 - SPARE_THREADS;
    expect(guard()).toBe(false);
  });

  it('always says yes without a thread limit, or where threads cannot be counted', () => {
    expect(spawnGuard(threadBudget(limits(), 'bun', 5000), () => 1e9)()).toBe(true);
    expect(spawnGuard(threadBudget(limits({ threads: [nproc(50, 9)] }), 'bun', 5000), () => null)()).toBe(true);
  });
});
