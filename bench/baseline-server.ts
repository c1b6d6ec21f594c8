/**
 * The baseline: a bare single-thread Bun SSE broadcaster with the same two routes the bench uses. It keeps no
 * history and persists nothing; it encodes each frame once and writes it to every open stream. Whatever
 * threadchat does on top (Workers, a store, validation) is measured against this.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log('Usage: bun bench/baseline-server.ts [--port N] [--tls-cert FILE --tls-key FILE]\nA bare one-thread SSE broadcaster, the bench baseline (HTTPS with HTTP/2, as the server, with a certificate).');
  process.exit(0);
}
// The same transport as the server's --tls-cert: HTTP/2 to clients that offer it, HTTP/1.1 to the others.
const tls = values['tls-cert'] && values['tls-key'] ? { tls: { cert: Bun.file(values['tls-cert']), key: Bun.file(values['tls-key']) }, http2: true } : {};

const encoder = new TextEncoder();
const subscribers = new Set<{ write(b: Uint8Array): void }>();
let nextId = 1;

const server = Bun.serve({
  port: Number(values.port ?? 0),
  hostname: '127.0.0.1',
  idleTimeout: 0,
  ...tls,
  async fetch(req) {
    const url = new URL(req.url);
    if (req.method === 'POST' && url.pathname.endsWith('/messages')) {
      const body = (await req.json()) as { name?: string; text?: string };
      const message = { id: String(nextId++), room: 'bench', name: body.name ?? 'anonymous', text: String(body.text), ts: Date.now() };
      const frame = encoder.encode(`id: ${message.id}\ndata: ${JSON.stringify(message)}\n\n`);
      for (const s of subscribers) s.write(frame);
      return Response.json(message, { status: 201 });
    }
    if (req.method === 'GET' && url.pathname.endsWith('/events')) {
      const source: Bun.DirectUnderlyingSource<Uint8Array> = {
          type: 'direct',
          pull(controller) {
            const sub = {
              write(b: Uint8Array) {
                controller.write(b);
                controller.flush();
              },
            };
            subscribers.add(sub);
            controller.write(encoder.encode('retry: 2000\n\n'));
            controller.flush();
            return new Promise<void>((resolve) => req.signal.addEventListener('abort', () => {
              subscribers.delete(sub);
              resolve();
            }));
          },
        };
      // Bun's direct streams write straight to the socket; the DOM typings do not know the `direct` type.
      return new Response(new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>), {
        headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' },
      });
    }
    if (url.pathname === '/healthz') return Response.json({ ok: true, streams: subscribers.size });
    return new Response('not found', { status: 404 });
  },
});
console.log(`baseline listening on ${'tls' in tls ? 'https' : 'http'}://127.0.0.1:${server.port}/`);
