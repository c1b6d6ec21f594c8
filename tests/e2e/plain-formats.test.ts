/**
 * curl-first, against a real server: the `raw` and `ndjson` stream formats (plain lines, no SSE framing),
 * `since=ID|DURATION|all` on streams and history, `poll=1`, plain history as lines, and the README's curl blocks
 * run as pasted (the port swapped for the test server's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, ROOT, startServer, waitFor, type ServerProcess } from '../helpers.ts';

/** Reads a streaming response's text as it arrives; `until` resolves once the text holds what it waits for. */
async function reading(url: string) {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  let text = '';
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    } catch {
      // aborted
    }
  })();
  return {
    res,
    text: () => text,
    until: (what: string, check: (t: string) => boolean, ms = 10_000) => waitFor(() => check(text) || null, what, ms),
    close: () => abort.abort(),
    done,
  };
}

const LINE = /^\[\d\d:\d\d:\d\d\] [^:]+: /;

describe('plain formats, since= and poll=1', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--heartbeat', '1000', '--post-rate', '0', '--post-rate-ip', '0']);
  });
  afterAll(() => server.stop());

  it('streams raw: the lines bin/chat shows, no SSE framing, an empty line as a keep-alive', async () => {
    await post(server.url, 'raw', { name: 'ann', text: 'before' });
    const raw = await reading(`${server.url}/rooms/raw/events?format=raw&name=watcher`);
    expect(raw.res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    await post(server.url, 'raw', { name: 'bob', text: 'two\nlines' });
    await raw.until('the live message', (t) => t.includes('bob: two\n    lines\n'));
    await raw.until('a keep-alive', (t) => t.includes('\n\n'), 5000);
    raw.close();
    const lines = raw.text().split('\n').filter(Boolean);
    expect(lines.filter((l) => !LINE.test(l) && !l.startsWith('* ') && !l.startsWith('    '))).toEqual([]);
    expect(lines.some((l) => /^\* watcher joined; /.test(l))).toBe(true);
    expect(raw.text()).not.toMatch(/^(data|id|retry|event):/m);
  });

  it('streams ndjson: one JSON object per line with its event and id, and a keepalive line', async () => {
    const nd = await reading(`${server.url}/rooms/nd/events?format=ndjson&name=watcher`);
    expect(nd.res.headers.get('content-type')).toBe('application/x-ndjson');
    const m = await post(server.url, 'nd', { name: 'ann', text: 'hello' });
    await nd.until('the message', (t) => t.includes(m.id));
    const other = await reading(`${server.url}/rooms/nd/events?format=raw&name=other`);
    await nd.until('the presence of a newcomer', (t) => t.includes('"event":"presence"') && t.includes('"name":"other"'));
    await nd.until('a keepalive', (t) => t.includes('{"event":"keepalive"}'), 5000);
    other.close();
    nd.close();
    const objects = nd.text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; id?: string; text?: string });
    expect(objects[0]).toEqual({ event: 'open' }); // the response starts at once, even in an empty room
    expect(objects.find((o) => o.event === 'message')).toMatchObject({ event: 'message', id: m.id, text: 'hello', name: 'ann' });
    expect(objects.some((o) => o.event === 'presence')).toBe(true);
  });

  it('takes since= as an id, a duration or all, on streams and history, and poll=1 ends the response', async () => {
    const old = await post(server.url, 'since', { name: 'ann', text: 'old' });
    await waitFor(() => Date.now() - old.ts > 1100 || null, 'a second to pass since the old message'); // the subject: time
    const fresh = await post(server.url, 'since', { name: 'ann', text: 'fresh' });
    const poll = async (query: string) => {
      const res = await fetch(`${server.url}/rooms/since/events?format=ndjson&poll=1&${query}`);
      return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.event === 'message').map((o) => o.text);
    };
    expect(await poll('since=1s')).toEqual(['fresh']);
    expect(await poll('since=all')).toEqual(['old', 'fresh']);
    expect(await poll(`since=${old.id}`)).toEqual(['fresh']);
    const history = async (query: string) => (await (await fetch(`${server.url}/rooms/since/messages?${query}`)).text()).trim().split('\n');
    expect(await history('since=1s&format=text')).toEqual([expect.stringMatching(/ann: fresh$/)]);
    expect((await history('since=all&format=ndjson')).map((l) => JSON.parse(l).id)).toEqual([old.id, fresh.id]);
    expect((await history('format=text')).map((l) => l.replace(LINE, ''))).toEqual(['old', 'fresh']); // plain history, no before=
    for (const bad of ['since=yesterday', 'since=10x', `since=all&after=${old.id}`]) {
      const res = await fetch(`${server.url}/rooms/since/messages?${bad}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/since/);
    }
    expect((await fetch(`${server.url}/rooms/since/events?since=soon`)).status).toBe(400);
  });

  it('runs the README curl blocks as pasted, resumes included, with no error and no reset', async () => {
    for (let i = 0; i < 25; i++) await post(server.url, 'main', { name: 'ann', text: `readme ${i}` });
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // The curl blocks only: none that starts a server, Redis or another tool (those have tests of their own).
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
      .filter((b) => b.includes('127.0.0.1:3000/rooms/main') && !/npm |bun |redis-server|openssl req|bin\/chat/.test(b));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      // The port the README shows is the test server's; a stream that follows for ever is cut after 2 s.
      const script = block.replaceAll('http://127.0.0.1:3000', server.url).replaceAll('curl -N', 'curl -N --max-time 2');
      const run = Bun.spawnSync(['bash', '-c', script.replace(/\bcurl /g, 'curl -sS ')], { stdout: 'pipe', stderr: 'pipe', timeout: 60_000 });
      const out = run.stdout.toString();
      expect(run.stderr.toString().split('\n').filter((l) => l && !l.includes('Operation timed out'))).toEqual([]);
      expect(out).not.toContain('"error"');
      expect(out).not.toContain('reset');
      expect(out).not.toMatch(/is not a message of this server/);
    }
  });
});
