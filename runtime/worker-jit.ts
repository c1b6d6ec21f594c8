/**
 * Imported first by server.ts. On Bun, it restarts the process in place (execve(2): same PID, same arguments,
 * same standard streams, the flags given to bun) with JavaScriptCore's JIT and Bun's collection timer set for a thousand threads: the
 * optimizing DFG tier off, and the baseline JIT only for code that ran 200,000 times. Skipped when
 * BUN_JSC_useDFGJIT is set already, or with THREADCHAT_JIT=default.
 *
 * Why: a wave wakes the Workers of a room one after another, and every one of them tiers the same loop up at about
 * the same moment; their compilations contend for what JavaScriptCore shares across the process (the compiler
 * threads, the executable memory, the page tables), and the threads block each other millions of times. Measured
 * on this 2-core machine, one room of 1000 streams taking 150 messages back to back: about 2,000 deliveries/s
 * with Bun's defaults, 30,000 to 79,000 with the DFG off, 350,000 to 412,000 with this setting
 * (`THREADCHAT_JIT=default|nodfg|lazy bun run bench:burst`, docs/bench.md). The main thread's hot paths still get
 * the baseline JIT once they pass the threshold; a Worker's per-message code rarely does, and runs interpreted.
 * JavaScriptCore reads its options only when the process starts, hence the restart.
 */
const VARIABLE = 'BUN_JSC_useDFGJIT';
/** lazy (the default), nodfg, nojit (every tier off) or default (JavaScriptCore's own): for measuring. */
const MODE = process.env.THREADCHAT_JIT ?? 'lazy';

function restartWithoutDfg(): void {
  if (typeof Bun === 'undefined' || process.platform === 'win32' || process.env[VARIABLE] !== undefined || MODE === 'default') return;
  let ffi: typeof import('bun:ffi');
  try {
    ffi = import.meta.require('bun:ffi') as typeof import('bun:ffi');
  } catch {
    return; // no FFI: keep running as we are
  }
  const { dlopen, ptr, FFIType } = ffi;
  const libc = process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6';
  const { symbols } = dlopen(libc, { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
  const strings: Buffer[] = [];
  const cString = (s: string) => {
    const b = Buffer.from(`${s}\0`);
    strings.push(b); // kept alive until execve has read it
    return BigInt(ptr(b));
  };
  const array = (items: string[]) => {
    const out = new BigUint64Array(items.length + 1);
    items.forEach((s, i) => (out[i] = cString(s)));
    return out;
  };
  const argv = array([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const extra = MODE === 'nojit' ? { [VARIABLE]: '0', BUN_JSC_useJIT: '0' }
    : MODE === 'lazy' ? { [VARIABLE]: '0', BUN_JSC_thresholdForJITAfterWarmUp: '200000', BUN_JSC_thresholdForJITSoon: '200000' }
    : { [VARIABLE]: '0' };
  // Bun collects each thread's heap on a timer (every second or so): 0.3 ms of CPU per idle Worker per second,
  // a third of a core for 1000 idle Workers (bench:spawn). Every 30 s is plenty for threads that allocate little.
  const gc = process.env.BUN_GC_TIMER_INTERVAL === undefined && process.env.BUN_GC_TIMER_DISABLE === undefined ? { BUN_GC_TIMER_INTERVAL: '30000' } : {};
  const env = array([...Object.entries({ ...process.env, ...extra, ...gc }).map(([k, v]) => `${k}=${v ?? ''}`)]);
  symbols.execve(ptr(Buffer.from(`${process.execPath}\0`)), ptr(argv), ptr(env));
  // Only reached when execve failed: go on with the default JIT.
}

restartWithoutDfg();
