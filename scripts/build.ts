/**
 * `npm run build`: the server for Node, in dist/. One bundle per entry: dist/server.js, and one per thread
 * entry (runtime/thread.ts THREAD_ENTRIES) at the same path as in source (dist/workers/stream-worker.js, …),
 * which is where the built server looks for them. Packages stay in node_modules (not bundled): better-sqlite3
 * is a native addon. dist/ sits one level below the root, as routes/ does, so paths like
 * `new URL('../views/assets/…', import.meta.url)` resolve the same from source and from the build.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { THREAD_ENTRIES } from '../runtime/thread.ts';

const root = join(import.meta.dir, '..');
const outdir = join(root, 'dist');
rmSync(outdir, { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: ['server.ts', ...THREAD_ENTRIES.map((entry) => `${entry}.ts`)].map((file) => join(root, file)),
  root,
  outdir,
  target: 'node',
  format: 'esm',
  packages: 'external',
});
for (const log of result.logs) console.error(log);
if (!result.success) process.exit(1);
for (const output of result.outputs) console.log(`${output.path.slice(root.length + 1)}  ${(output.size / 1024).toFixed(1)} KiB`);
