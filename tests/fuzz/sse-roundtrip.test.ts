/**
 * Property over a real server: messages with arbitrary text (full Unicode, CR, LF, CRLFCRLF, `event: bye`,
 * `id: 999`, `data: x`, `retry: 1`, Markdown's links and raw HTML, ...) go in by every transport and come out of real
 * SSE streams, parsed with eventsource-parser, in every format: each as exactly one unnamed event with the right id
 * whose decoded text and name equal what the history says was stored (html: whose text is its inert Markdown), and
 * nothing else (no injected field, event, retry or id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { renderMarkdown } from '../../views/markdown.ts';
import { renderMessage } from '../../views/message.tsx';
import { expectInert } from '../views/inert-html.ts';
import { startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { hostileMarkdown, hostileText } from './arbitraries.ts';

const scale = Number(process.env.FUZZ_RUNS ?? 1);
const FORMATS = ['json', 'html', 'text'] as const;
type Format = (typeof FORMATS)[number];
interface Stored { id: string; room: string; name: string; text: string; ts: number }

interface Capture {
  events: EventSourceMessage[];
  retries: number[];
  errors: string[];
  close(): void;
}

/** A stream read with fetch and eventsource-parser, keeping every callback's output so stray fields show. */
async function capture(url: string): Promise<Capture> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: abort.signal });
  expect(res.status).toBe(200);
  const c: Capture = { events: [], retries: [], errors: [], close: () => abort.abort() };
  const parser = createParser({
    onEvent: (e) => c.events.push(e),
    onRetry: (ms) => c.retries.push(ms),
    onError: (error) => c.errors.push(String(error)),
  });
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted at the end of the case
    }
  })();
  await waitFor(() => c.retries.length > 0, 'the retry hint that opens a stream');
  return c;
}

const encode = (s: string) => encodeURIComponent(s.toWellFormed());
/** A stream's ?name= longer than 32 characters is refused (400); cleaning only ever shortens a name. */
const at32 = (s: string) => [...s].slice(0, 32).join('');
const unescapeHtml = (s: string) =>
  s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);

/** The text and name a stream's frame carries, decoded from its format without the server's code. */
function decode(format: Format, data: string, stored: Stored): { name: string; text: string } {
  switch (format) {
    case 'json': {
      const m = JSON.parse(data) as Stored;
      expect(m.id).toBe(stored.id);
      return { name: m.name, text: m.text };
    }
    case 'html': {
      expect(data).toBe(renderMessage({ ...stored, client: null }));
      const name = /<b class="name">([^<]*)<\/b>/.exec(data)?.[1];
      // The text is its Markdown (views/markdown.ts), which cannot be read back into what was typed: it must be
      // that rendering, and hold nothing but the allowed markup (tests/views/inert-html.ts).
      const text = /<div class="text">([\s\S]*)<\/div><\/div><\/li>$/.exec(data)?.[1];
      expect(text).toBe(renderMarkdown(stored.text));
      expectInert(text!);
      return { name: name === undefined ? stored.name : unescapeHtml(name), text: stored.text };
    }
    case 'text': {
      // `[hh:mm:ss] name: text`, each continuation line indented by four spaces.
      const [first, ...rest] = data.split('\n');
      const head = /^\[\d\d:\d\d:\d\d\] /.exec(first!);
      expect(head).not.toBeNull();
      const line = first!.slice(head![0].length);
      expect(line.startsWith(`${stored.name}: `)).toBe(true);
      for (const r of rest) expect(r.startsWith('    ')).toBe(true);
      return { name: stored.name, text: [line.slice(stored.name.length + 2), ...rest.map((r) => r.slice(4))].join('\n') };
    }
  }
}

const message = fc.record({
  name: hostileText(40),
  text: fc.oneof(
    { arbitrary: hostileText(60), weight: 8 },
    { arbitrary: hostileMarkdown(30), weight: 4 },
    { arbitrary: fc.constantFrom('"'.repeat(4000), '\n\n\nx'.repeat(1000), '\ud83d\ude00'.repeat(4000), 'event: bye\r\n\r\n'.repeat(300)), weight: 1 },
  ),
  via: fc.constantFrom('json', 'form', 'text', 'curl'),
});

async function send(base: string, room: string, m: { name: string; text: string; via: string }) {
  const q = `/rooms/${room}/messages`;
  const headers = { 'X-Client-Id': 'poster', Accept: 'application/json' };
  const post = (url: string, type: string, body: string) => fetch(base + url, { method: 'POST', headers: { ...headers, 'Content-Type': type }, body });
  switch (m.via) {
    case 'json':
      return post(q, 'application/json', JSON.stringify({ name: m.name, text: m.text }));
    case 'form':
      return post(q, 'application/x-www-form-urlencoded', `name=${encode(m.name)}&text=${encode(m.text)}`);
    case 'text':
      return post(`${q}?name=${encode(m.name)}`, 'text/plain; charset=utf-8', m.text);
    default:
      return post(`${q}?name=${encode(m.name)}`, 'application/x-www-form-urlencoded', m.text);
  }
}

for (const store of ['sqlite', 'memory'] as const) {
  describe(`SSE round trip on a real server (${store} store)`, () => {
    const data = tempDir('threadchat-sse-fuzz-');
    let server: ServerProcess;
    let rooms = 0;
    beforeAll(async () => {
      server = await startServer(['--data', data.path, '--store', store], {
        // Every case is a new room: the rooms quota (60 an hour by default) would refuse the 61st.
        CHAT_POST_RATE: '0', CHAT_POST_RATE_IP: '0', CHAT_MAX_STREAMS_PER_IP: '1000', CHAT_QUOTA_ROOMS_HOUR: '0',
      });
    });
    afterAll(async () => {
      await server.stop();
      data.remove();
    });

    it('delivers every accepted message once, unnamed, with its id, and decoded as stored, in every format', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 4 }), hostileText(20).map(at32), async (messages, watcherName) => {
          const room = `sse-${store}-${rooms++}`;
          const streams = await Promise.all(FORMATS.map((f) => capture(`${server.url}/rooms/${room}/events?format=${f}&client=watch-${f}&name=${encode(watcherName)}`)));
          try {
            const accepted: string[] = [];
            for (const m of messages) {
              const res = await send(server.url, room, m);
              const body = await res.json();
              // A raw `curl -d` text that holds a `text=` field is a form, and may be a malformed one.
              if (m.via === 'curl' && res.status === 400 && /(?:^|&)text=/.test(m.text)) continue;
              expect([201, 422], JSON.stringify(body)).toContain(res.status);
              if (res.status === 201) accepted.push(body.id);
            }
            // A plain last message, so the end of the case is known even when every hostile one was refused.
            accepted.push((await (await send(server.url, room, { name: 'end', text: 'end', via: 'json' })).json()).id);
            const history = (await (await fetch(`${server.url}/rooms/${room}/messages?limit=1000`)).json()).messages as Stored[];
            expect(history.map((m) => m.id)).toEqual(accepted);
            for (const [i, format] of FORMATS.entries()) {
              const s = streams[i]!;
              await waitFor(() => s.events.some((e) => e.id === accepted.at(-1)), `the last message on the ${format} stream`, 5000);
              const unnamed = s.events.filter((e) => e.event === undefined);
              expect(unnamed.map((e) => e.id)).toEqual(accepted);
              for (const [k, e] of unnamed.entries()) {
                const stored = history[k]!;
                expect(decode(format, e.data, stored)).toEqual({ name: stored.name, text: stored.text });
              }
              for (const e of s.events.filter((e) => e.event !== undefined)) {
                expect(e.event).toBe('presence');
                expect(e.id).toBeUndefined();
                if (format === 'text') expect(e.data).toMatch(/^\* [^\n]*$/);
                else expect(JSON.parse(e.data).room).toBe(room);
              }
              expect(s.retries).toEqual([2000]);
              expect(s.errors).toEqual([]);
            }
          } finally {
            for (const s of streams) s.close();
          }
        }),
        // A failure shrinks against the live server; the time limit keeps that bounded and still reports the case.
        { numRuns: Math.round(75 * scale), interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
      );
    }, 120_000 * Math.max(1, scale));
  });
}
