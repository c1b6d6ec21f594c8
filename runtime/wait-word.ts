/**
 * Blocking on a shared Int32 word and waking every thread blocked on it: the one primitive the fan-out's wakes use.
 *
 * Two kinds, and the threads that share a word must all use the same one (a futex(2) waiter never hears an
 * Atomics.notify, nor the reverse):
 * - `futex`: Bun on Linux, futex(2) called through bun:ffi. One FUTEX_WAKE wakes every waiter in the kernel.
 *   bench/wake.ts measures it at well under half the CPU per wake of the other kind, on this machine.
 * - `atomics`: everywhere else (Node, other systems). JavaScriptCore's Atomics.notify unparks waiters one by
 *   one from the notifying thread.
 *
 * The main thread picks the kind (`preferredWaitKind`) and tells each Worker, which opens the same kind.
 */
export type WaitKind = 'futex' | 'atomics';

export interface WaitWords {
  readonly kind: WaitKind;
  /**
   * Blocks while `words[index]` is `expected`, at most `timeoutMs`. True when a wake() woke this thread; false when
   * the word differed, the time ran out, or a signal interrupted the wait.
   */
  wait(index: number, expected: number, timeoutMs: number): boolean;
  /** Wakes up to `count` threads blocked on `words[index]`, longest waiting first; returns how many woke. */
  wake(index: number, count: number): number;
  /** wake() of every thread blocked on `words[index]`. */
  wakeAll(index: number): number;
}

const FUTEX_SYSCALL: Partial<Record<string, number>> = { x64: 202, arm64: 98 };
const FUTEX_WAIT_PRIVATE = 0 | 128; // the words are shared by threads of one process
const FUTEX_WAKE_PRIVATE = 1 | 128;

/** `futex` where bun:ffi can call futex(2) (Bun on Linux, x64 or arm64); `atomics` elsewhere. */
export function preferredWaitKind(): WaitKind {
  if (typeof Bun === 'undefined' || process.platform !== 'linux' || FUTEX_SYSCALL[process.arch] === undefined) return 'atomics';
  if (process.env.THREADCHAT_WAIT === 'atomics') return 'atomics';
  try {
    const words = openWaitWords(new Int32Array(new SharedArrayBuffer(4)), 'futex');
    words.wait(0, 1, 0); // the value differs: returns at once, or throws if the call cannot be made
    words.wake(0, 1);
    return 'futex';
  } catch {
    return 'atomics';
  }
}

/** Wait and wake on `words` (an Int32Array over a SharedArrayBuffer) with the given kind. */
export function openWaitWords(words: Int32Array, kind: WaitKind): WaitWords {
  if (kind === 'atomics') {
    return {
      kind,
      wait: (index, expected, timeoutMs) => Atomics.wait(words, index, expected, timeoutMs) === 'ok',
      wake: (index, count) => Atomics.notify(words, index, count),
      wakeAll: (index) => Atomics.notify(words, index),
    };
  }
  // Only Bun reaches this line (preferredWaitKind): a synchronous load, so threads can open their words at once.
  const { dlopen, ptr, FFIType } = import.meta.require('bun:ffi') as typeof import('bun:ffi');
  const nr = FUTEX_SYSCALL[process.arch]!;
  // syscall(2) is variadic; its integer arguments travel in the same registers as a fixed signature's on x64 and arm64 Linux.
  const { symbols } = dlopen('libc.so.6', {
    syscall: { args: [FFIType.i64, FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
  const base = ptr(words);
  const timeout = new BigInt64Array(2); // struct timespec { tv_sec; tv_nsec }, relative for FUTEX_WAIT
  const timeoutPtr = ptr(timeout);
  let timeoutSet = -1;
  return {
    kind,
    wait(index, expected, timeoutMs) {
      if (Atomics.load(words, index) !== expected) return false;
      if (timeoutMs !== timeoutSet) {
        const ms = Math.max(0, Math.floor(timeoutMs));
        timeout[0] = BigInt(Math.floor(ms / 1000));
        timeout[1] = BigInt((ms % 1000) * 1_000_000);
        timeoutSet = timeoutMs;
      }
      // 0: woken by FUTEX_WAKE; -1: EAGAIN (the word differed), ETIMEDOUT or EINTR.
      return symbols.syscall(nr, base + index * 4, FUTEX_WAIT_PRIVATE, expected, timeoutPtr) === 0;
    },
    wake: (index, count) => symbols.syscall(nr, base + index * 4, FUTEX_WAKE_PRIVATE, count, null),
    wakeAll: (index) => symbols.syscall(nr, base + index * 4, FUTEX_WAKE_PRIVATE, 0x7fffffff, null),
  };
}
