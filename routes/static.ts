import { Hono } from 'hono';
import { assetBytes, assetType, isAssetName } from '../views/static-assets.ts';

/** Static assets with long cache lifetimes (the page links them with a content-hash query: views/static-assets.ts). */
export const assets = new Hono().get('/static/:file', (c) => {
  const file = c.req.param('file');
  if (!isAssetName(file)) return c.json({ error: `no static file ${file}` }, 404);
  return c.body(assetBytes(file), 200, {
    'Content-Type': assetType(file),
    'Cache-Control': 'public, max-age=31536000, immutable',
  });
});
