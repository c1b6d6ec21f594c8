import { describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assets } from '../../routes/static.ts';
import { assetUrl } from '../../views/static-assets.ts';
import { ROOT } from '../helpers.ts';

describe('GET /static/:file', () => {
  it('serves each file the page links, with its type, for a year, at the URL the page uses', async () => {
    for (const [name, type] of [['app.css', 'text/css'], ['app.js', 'text/javascript'], ['htmx.min.js', 'text/javascript'], ['hx-sse.min.js', 'text/javascript']] as const) {
      const res = await assets.request(assetUrl(name));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect(await (await assets.request('/static/app.css')).text()).toBe(readFileSync(join(ROOT, 'views/assets/app.css'), 'utf8'));
  });

  it('versions an asset URL by its content (a changed file gets a new URL past the year-long cache)', () => {
    const hash = createHash('sha256').update(readFileSync(join(ROOT, 'views/assets/app.js'))).digest('hex').slice(0, 12);
    expect(assetUrl('app.js')).toBe(`/static/app.js?v=${hash}`);
  });

  it('answers 404 with a reason for any other name, inherited ones too', async () => {
    for (const name of ['nope.js', 'constructor', '__proto__', 'toString']) {
      const res = await assets.request(`/static/${name}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: `no static file ${name}` });
    }
  });
});
