import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const htmxDist = join(require.resolve('htmx.org/package.json'), '..', 'dist');
const JS = 'text/javascript; charset=utf-8';
/** One of the page's own scripts in views/assets/. */
const page = (file: string) => ({ path: new URL(`../views/assets/${file}`, import.meta.url).pathname, type: JS });

/**
 * The files served under /static (routes/static.ts) and linked by the page: where each is read from, and its
 * content type. htmx comes from node_modules, never a CDN. `../views/assets`, not `./assets`: the Node build
 * bundles this file into dist/server.js, one level below the root as views/ is (scripts/build.ts).
 */
const ASSETS = {
  'app.css': { path: new URL('../views/assets/app.css', import.meta.url).pathname, type: 'text/css; charset=utf-8' },
  'app.js': page('app.js'),
  'message-look.js': page('message-look.js'),
  'people.js': page('people.js'),
  'sending.js': page('sending.js'),
  'room-switcher.js': page('room-switcher.js'),
  'slow-post.js': page('slow-post.js'),
  'typing.js': page('typing.js'),
  'scroll-back.js': page('scroll-back.js'),
  'attention.js': page('attention.js'),
  'replying.js': page('replying.js'),
  'htmx.min.js': { path: join(htmxDist, 'htmx.min.js'), type: JS },
  'hx-sse.min.js': { path: join(htmxDist, 'ext', 'hx-sse.min.js'), type: JS },
} as const;

export type AssetName = keyof typeof ASSETS;

/** Own names only: `constructor` or `__proto__` in a URL is not an asset. */
export const isAssetName = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);

export const assetType = (name: AssetName): string => ASSETS[name].type;

const contents = new Map<AssetName, Uint8Array<ArrayBuffer>>();

/** The file's bytes, read on first use and kept (the files change only with a deploy, which restarts the server). */
export function assetBytes(name: AssetName): Uint8Array<ArrayBuffer> {
  let bytes = contents.get(name);
  if (!bytes) contents.set(name, (bytes = new Uint8Array(readFileSync(ASSETS[name].path))));
  return bytes;
}

const urls = new Map<AssetName, string>();

/**
 * `/static/<name>?v=<content hash>`: /static is cached for a year, so a changed file must get a new URL. Hashed on
 * first use and remembered: a deploy restarts the server.
 */
export function assetUrl(name: AssetName): string {
  let url = urls.get(name);
  if (!url) urls.set(name, (url = `/static/${name}?v=${createHash('sha256').update(assetBytes(name)).digest('hex').slice(0, 12)}`));
  return url;
}
