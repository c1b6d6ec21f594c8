import { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const htmxDist = join(require.resolve('htmx.org/package.json'), '..', 'dist');

/** Files served under /static: name → [path, content type]. htmx comes from node_modules, never a CDN. */
const FILES: Record<string, [string, string]> = {
  'htmx.min.js': [join(htmxDist, 'htmx.min.js'), 'text/javascript; charset=utf-8'],
  'hx-sse.min.js': [join(htmxDist, 'ext', 'hx-sse.min.js'), 'text/javascript; charset=utf-8'],
  'app.js': [new URL('../views/assets/app.js', import.meta.url).pathname, 'text/javascript; charset=utf-8'],
  'app.css': [new URL('../views/assets/app.css', import.meta.url).pathname, 'text/css; charset=utf-8'],
};

const cache = new Map<string, Uint8Array<ArrayBuffer>>();
const load = (name: string) => {
  let bytes = cache.get(name);
  if (!bytes) cache.set(name, (bytes = new Uint8Array(readFileSync(FILES[name]![0]))));
  return bytes;
};

/** Static assets with long cache lifetimes (the page links them with a version query). */
export const assets = new Hono().get('/static/:file', (c) => {
  const file = c.req.param('file');
  const entry = FILES[file];
  if (!entry) return c.json({ error: `no static file ${file}` }, 404);
  return c.body(load(file), 200, {
    'Content-Type': entry[1],
    'Cache-Control': 'public, max-age=31536000, immutable',
  });
});
