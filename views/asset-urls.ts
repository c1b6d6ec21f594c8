import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const htmxDist = join(require.resolve('htmx.org/package.json'), '..', 'dist');

/**
 * The files the page links, as routes/static.ts serves them under /static. `../views/assets`, not `./assets`:
 * the Node build bundles this file into dist/server.js, one level below the root as views/ is (scripts/build.ts).
 */
const SOURCES = {
  'app.css': new URL('../views/assets/app.css', import.meta.url).pathname,
  'app.js': new URL('../views/assets/app.js', import.meta.url).pathname,
  'htmx.min.js': join(htmxDist, 'htmx.min.js'),
  'hx-sse.min.js': join(htmxDist, 'ext', 'hx-sse.min.js'),
} as const;

export type AssetName = keyof typeof SOURCES;

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);

const urls = new Map<AssetName, string>();

/**
 * `/static/<name>?v=<content hash>`: /static is cached for a year, so a changed file must get a new URL. Hashed on
 * first use and remembered: a deploy restarts the server.
 */
export function assetUrl(name: AssetName): string {
  let url = urls.get(name);
  if (!url) urls.set(name, (url = `/static/${name}?v=${hash(SOURCES[name])}`));
  return url;
}
