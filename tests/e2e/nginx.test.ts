/**
 * threadchat behind a real nginx, configured with the nginx block of docs/deploy.md (tests/e2e/nginx-helpers.ts
 * reads it from the doc): streams unbuffered, resumes across the proxy, heartbeats past proxy_read_timeout, the
 * page in Chromium, per-address limits per real client (--trust-proxy), and a rolling restart of two instances
 * on Redis under the soak's clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { BUN, health, openStream, post, ROOT, startServer, waitFor, type ServerProcess, type SseEvent, type Stream } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import { deployNginxBlock, postFrom, siteConfig, startNginx, type Nginx } from './nginx-helpers.ts';
import { freePort } from './terminal-helpers.ts';
import { launchBrowser } from './browser-helpers.ts';

const isMessage = (id: string) => (e: SseEvent) => !e.event && e.id === id;
const firstFrame = (s: Stream, what: string) => s.next((e) => e.event === 'presence', what);

describe('the nginx config of docs/deploy.md', () => {
  it('is taken from the doc, with only its ports and read timeout replaced', () => {
    const block = deployNginxBlock();
    for (const line of ['proxy_http_version 1.1;', 'proxy_set_header Connection "";', 'proxy_buffering off;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', 'proxy_set_header X-Forwarded-Proto $scheme;', 'proxy_set_header Host $host;']) {
      expect(block).toContain(line);
    }
    const site = siteConfig({ upstreams: [4001, 4002], readTimeout: '2s' }, 4000, block);
    expect(site).toContain('listen 127.0.0.1:4000;');
    expect(site).toContain('server 127.0.0.1:4001');
    expect(site).toContain('server 127.0.0.1:4002');
    expect(site).toContain('proxy_read_timeout 2s;');
    expect(site.replace('listen 127.0.0.1:4000;', 'listen 80;').replace(':4001', ':3000').replace(':4002', ':3001').replace('proxy_read_timeout 2s;', 'proxy_read_timeout 60s;')).toBe(block);
    // A doc that lost a line the test replaces fails here, not silently.
    expect(() => siteConfig({ upstreams: [4001] }, 4000, block.replace('listen 80;', 'listen 8080;'))).toThrow(/listen 80/);
  });
});

describe('one server behind nginx', () => {
  let server: ServerProcess;
  let nginx: Nginx;
  beforeAll(async () => {
    // As a deployment would: the server knows the URL browsers reach it by (docs/deploy.md), here nginx's.
    const port = freePort();
    server = await startServer(['--store', 'memory', '--post-rate', '0', '--public-url', `http://127.0.0.1:${port}`]);
    nginx = await startNginx({ upstreams: [server.port], port });
  });
  afterAll(async () => {
    await nginx?.stop();
    await server?.stop();
  });

  it('passes a stream through unbuffered: each message arrives about as fast as directly, under 1 s', async () => {
    const room = 'unbuffered';
    const direct = await openStream(`${server.url}/rooms/${room}/events?history=0`);
    const proxied = await openStream(`${nginx.url}/rooms/${room}/events?history=0`);
    expect(proxied.status).toBe(200);
    expect(proxied.headers.get('content-type')).toContain('text/event-stream');
    await Promise.all([firstFrame(direct, 'the first frame directly'), firstFrame(proxied, 'the first frame through nginx')]);
    const lag: { direct: number; proxied: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = Date.now();
      const m = await post(server.url, room, { name: 'p', text: `m${i}` });
      // A buffering proxy holds these few hundred bytes until its buffer fills or the response ends, which a
      // stream never does: the wait would time out.
      const [d, p] = await Promise.all([direct.next(isMessage(m.id), `m${i} directly`, 5000), proxied.next(isMessage(m.id), `m${i} through nginx`, 5000)]);
      lag.push({ direct: d.at - sent, proxied: p.at - sent });
    }
    console.log(`nginx: delivery lag ms, direct vs through nginx: ${lag.map((l) => `${l.direct}/${l.proxied}`).join(' ')}`);
    for (const l of lag) {
      expect(l.proxied).toBeLessThan(1000);
      expect(l.proxied - l.direct).toBeLessThan(500);
    }
    direct.close();
    proxied.close();
  }, 30_000);

  it('resumes a stream with Last-Event-ID through nginx, missing nothing and getting nothing twice', async () => {
    const room = 'resume';
    const first = await openStream(`${nginx.url}/rooms/${room}/events?client=reader`);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push((await post(nginx.url, room, { text: `seen-${i}` })).id);
    await first.next(isMessage(seen.at(-1)!), 'the last message before the drop');
    const lastEventId = first.events.filter((e) => e.id).at(-1)!.id!;
    first.close();
    const missed: string[] = [];
    for (let i = 0; i < 4; i++) missed.push((await post(i % 2 ? server.url : nginx.url, room, { text: `missed-${i}` })).id);
    const again = await openStream(`${nginx.url}/rooms/${room}/events?client=reader`, { 'Last-Event-ID': lastEventId });
    const live = await post(nginx.url, room, { text: 'live' });
    await again.next(isMessage(live.id), 'the live message after the resume');
    expect(lastEventId).toBe(seen.at(-1)!);
    expect(first.messages().map((m) => m.id)).toEqual(seen);
    expect(again.messages().map((m) => m.id)).toEqual([...missed, live.id]);
    expect(again.events.some((e) => e.event === 'reset')).toBe(false);
    again.close();
  });

  it('serves the page in Chromium through nginx: post, and see your message and another one live', async () => {
    const room = 'browser-nginx';
    const browser: Browser = await launchBrowser();
    const problems: string[] = [];
    try {
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
      await page.goto(`${nginx.url}/rooms/${room}`);
      await page.locator('#name-input').fill('nina');
      await page.locator('#name-input').press('Enter');
      await page.locator('#members .person.you', { hasText: 'nina' }).waitFor();
      await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the page to be live through nginx');
      await page.locator('#text').fill('hello through nginx');
      await page.locator('#text').press('Enter');
      await page.locator('#messages .msg.mine', { hasText: 'hello through nginx' }).waitFor();
      // Someone else's message reaches the page over its stream through nginx.
      const other = await post(server.url, room, { name: 'omar', text: 'live from omar' });
      await page.locator(`#messages .msg[data-id="${other.id}"]`, { hasText: 'live from omar' }).waitFor();
      const stored = ((await (await fetch(`${server.url}/rooms/${room}/messages`)).json()) as { messages: { name: string; text: string }[] }).messages;
      expect(stored.map((m) => `${m.name}: ${m.text}`)).toEqual(['nina: hello through nginx', 'omar: live from omar']);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("refuses through nginx a name that is not --public-url's (421) and a post from another origin (403)", async () => {
    // nginx passes the Host the browser sent ($host): a rebound name reaches the server as it is.
    expect((await fetch(`${nginx.url}/rooms/door`, { headers: { Host: 'attacker.example' } })).status).toBe(421);
    const forged = await fetch(`${nginx.url}/rooms/door/messages`, { method: 'POST', headers: { Origin: 'http://evil.example', Accept: 'application/json' }, body: new URLSearchParams({ text: 'forged' }) });
    expect(forged.status).toBe(403);
    expect((await fetch(`${nginx.url}/rooms/door/messages`, { method: 'POST', headers: { Origin: nginx.url }, body: 'from the page' })).status).toBe(201);
  });
});

describe('heartbeats behind nginx', () => {
  it('keep a quiet stream open past proxy_read_timeout (2 s), and it still gets the next message', async () => {
    const server = await startServer(['--store', 'memory', '--heartbeat', '1000']);
    let nginx: Nginx | null = null;
    try {
      nginx = await startNginx({ upstreams: [server.port], readTimeout: '2s' });
      const res = await fetch(`${nginx.url}/rooms/quiet/events?history=0`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let ended = false;
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return void (ended = true);
          text += decoder.decode(value, { stream: true });
        }
      })().catch(() => void (ended = true));
      const started = Date.now();
      const beats = () => text.split(': keep-alive\n\n').length - 1;
      // Quiet for 5 s, more than twice nginx's read timeout: only the heartbeats cross it.
      await waitFor(() => {
        if (ended) throw new Error(`nginx ended the quiet stream after ${Date.now() - started} ms (${beats()} heartbeats)`);
        return Date.now() - started > 5000;
      }, '5 quiet seconds', 15_000);
      expect(beats()).toBeGreaterThanOrEqual(3); // a Worker runs its timers at least once a second
      const m = await post(server.url, 'quiet', { name: 'a', text: 'still here' });
      await waitFor(() => text.includes(`id: ${m.id}\n`) || (ended && Promise.reject(new Error('the stream ended'))), 'the message on the quiet stream');
      expect(ended).toBe(false);
      await reader.cancel();
      await reading;
    } finally {
      await nginx?.stop();
      await server.stop();
    }
  }, 60_000);
});

// These need --trust-proxy (being added on another branch): until it is there the server refuses the option and
// they fail at start. Nothing here is skipped.
describe('per-address limits behind nginx (--trust-proxy 127.0.0.1)', () => {
  let server: ServerProcess;
  let nginx: Nginx;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--trust-proxy', '127.0.0.1', '--post-rate', '0', '--post-rate-ip', '1', '--post-burst-ip', '2']);
    nginx = await startNginx({ upstreams: [server.port] });
  });
  afterAll(async () => {
    await nginx?.stop();
    await server?.stop();
  });

  it('gives each client address its own post limit, and a forged X-Forwarded-For changes nothing', async () => {
    const room = 'per-ip';
    // The bucket refills one a second: every step below is a few ms, well within it.
    const steps: [string, number][] = [];
    const step = async (what: string, status: Promise<number>) => void steps.push([what, await status]);
    await step('127.0.0.2 via nginx #1', postFrom(nginx.url, room, '127.0.0.2'));
    await step('127.0.0.2 via nginx #2', postFrom(nginx.url, room, '127.0.0.2'));
    await step('127.0.0.2 via nginx #3 (its burst of 2 is spent)', postFrom(nginx.url, room, '127.0.0.2'));
    await step('127.0.0.3 via nginx #1 (a bucket of its own)', postFrom(nginx.url, room, '127.0.0.3'));
    // Through nginx, a forged header is followed by the address nginx saw: still 127.0.0.2.
    await step('127.0.0.2 via nginx claiming 127.0.0.9', postFrom(nginx.url, room, '127.0.0.2', { 'X-Forwarded-For': '127.0.0.9' }));
    // Straight to the server from an untrusted peer, the header is not believed: 127.0.0.2's empty bucket, not
    // 127.0.0.3's last token.
    await step('127.0.0.2 directly claiming 127.0.0.3', postFrom(server.url, room, '127.0.0.2', { 'X-Forwarded-For': '127.0.0.3' }));
    await step('127.0.0.3 via nginx #2 (its token untouched)', postFrom(nginx.url, room, '127.0.0.3'));
    expect(steps).toEqual([
      ['127.0.0.2 via nginx #1', 201],
      ['127.0.0.2 via nginx #2', 201],
      ['127.0.0.2 via nginx #3 (its burst of 2 is spent)', 429],
      ['127.0.0.3 via nginx #1 (a bucket of its own)', 201],
      ['127.0.0.2 via nginx claiming 127.0.0.9', 429],
      ['127.0.0.2 directly claiming 127.0.0.3', 429],
      ['127.0.0.3 via nginx #2 (its token untouched)', 201],
    ]);
  });
});

describe('two instances on Redis behind nginx, restarted one at a time', () => {
  it('loses nothing under the soak clients: their streams move with Last-Event-ID, no client sees a 5xx', async () => {
    const prefix = uniquePrefix('nginx');
    const store = storeUrl(SHARED_REDIS, DB.e2e, prefix, { presenceTtl: '1500' });
    const ports = [freePort(), freePort()] as const;
    // The soak's clients all come from nginx's 127.0.0.1: the per-address limits are lifted, as the soak's own server does.
    const args = (port: number) => ['--store', store, '--port', String(port), '--post-rate', '0', '--post-rate-ip', '0', '--max-streams-per-ip', '1000'];
    const servers: ServerProcess[] = [];
    const start = async (i: 0 | 1) => (servers[i] = await startServer(args(ports[i])));
    let nginx: Nginx | null = null;
    let soak: ReturnType<typeof Bun.spawn> | null = null;
    try {
      await Promise.all([start(0), start(1)]);
      nginx = await startNginx({ upstreams: [...ports] });
      soak = Bun.spawn([BUN, join(ROOT, 'scripts', 'soak.ts'), '--url', nginx.url, '--clients', '8', '--seconds', '20', '--rate', '3', '--drops', '20', '--settle', '20'], {
        cwd: ROOT, stdout: 'pipe', stderr: 'pipe',
      });
      let stderr = '';
      const stdout = new Response(soak.stdout as ReadableStream<Uint8Array>).text();
      void (async () => {
        for await (const chunk of soak.stderr as ReadableStream<Uint8Array>) stderr += new TextDecoder().decode(chunk);
      })();
      /** Posts acknowledged so far, from the soak's last progress line (once a second). */
      const acked = () => Number([...stderr.matchAll(/^soak \d+ s: sent \d+ acked (\d+)/gm)].at(-1)?.[1] ?? 0);
      const posting = () => acked() > 0;
      const streamsOn = async (i: 0 | 1) => (await health(servers[i]!.url).catch(() => ({ streams: 0 }))).streams;
      await waitFor(async () => posting() && (await streamsOn(0)) > 0 && (await streamsOn(1)) > 0, 'the soak posting, with streams on both instances', 30_000);
      for (const i of [0, 1] as const) {
        // SIGTERM while the clients post and follow: its streams get `bye` and resume on the other instance.
        expect(await servers[i]!.stop()).toBe(0);
        await start(i);
        // Back in nginx's rotation as soon as it listens (max_fails=0): new streams land on it again.
        await waitFor(async () => (await streamsOn(i)) > 0, `streams through nginx on the restarted instance ${i}`, 20_000);
        // Still posting: the restart happened under the clients' traffic, and it goes on.
        const mark = acked();
        await waitFor(() => acked() > mark + 10 || (soak!.exitCode !== null && Promise.reject(new Error('the soak ended'))), 'more posts acknowledged after the restart', 10_000);
      }
      const code = await soak.exited;
      const out = await stdout;
      const result = out.match(/^result: .*$/m)?.[0] ?? '';
      const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(result)?.[1]);
      console.log(`nginx rolling restart: ${result}`);
      expect(code, `${out}\n${stderr}`).toBe(0);
      expect(result).toContain(' lost=0 duplicates=0 reordered=0 echoed=0 ');
      expect(field('http5xx'), `${stderr}\n${nginx.errorLog()}`).toBe(0);
      expect(field('failed'), stderr).toBe(0);
      expect(field('byes')).toBeGreaterThanOrEqual(2); // the streams of each stopped instance were told
      expect(field('acked')).toBeGreaterThan(100);
      expect(field('delivered')).toBe(field('acked') * 7);
    } finally {
      if (soak && soak.exitCode === null) {
        soak.kill('SIGINT');
        await soak.exited;
      }
      await nginx?.stop();
      await Promise.all(servers.map((s) => s.stop()));
      await deleteKeys(SHARED_REDIS, DB.e2e, prefix);
    }
  }, 120_000);
});
