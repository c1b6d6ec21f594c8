/**
 * HTTPS from the server itself (--tls-cert, --tls-key): curl over HTTP/2 and HTTP/1.1 on the same port, streaming
 * and resuming with Last-Event-ID; EventSource in Chromium over HTTP/2, resuming after a drop; the sign-in cookie
 * Secure; a bad or missing file stopping the start with a message that names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_COMMAND, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { makeCertificate, type TestCertificate } from '../tls-helpers.ts';
import { launchBrowser } from './browser-helpers.ts';

const TOKEN = 'tls test token, long enough';

describe('HTTPS with HTTP/2', () => {
  const dir = tempDir();
  let tls: TestCertificate;
  let server: ServerProcess;
  /** curl trusting the test certificate (no --insecure: the certificate is checked). */
  const curl = (...args: string[]) => Bun.spawnSync(['curl', '-sS', '--cacert', tls.cert, ...args], { stdout: 'pipe', stderr: 'pipe' });
  const post = (room: string, text: string, version = '--http2') => {
    const done = curl(version, '-H', `Authorization: Bearer ${TOKEN}`, '-d', text, `${server.url}/rooms/${room}/messages?name=tess`);
    expect(done.exitCode).toBe(0);
    return JSON.parse(done.stdout.toString()) as { id: string };
  };
  /** `curl -N` following a stream; `out` grows as lines arrive, `err` holds curl's -v report. */
  const follow = (url: string, ...args: string[]) => {
    const proc = Bun.spawn(['curl', '-sSNv', '--http2', '--cacert', tls.cert, '-H', `Authorization: Bearer ${TOKEN}`, ...args, url], { stdout: 'pipe', stderr: 'pipe' });
    const got = { out: '', err: '', proc };
    void (async () => {
      for await (const chunk of proc.stdout) got.out += new TextDecoder().decode(chunk);
    })();
    void (async () => {
      for await (const chunk of proc.stderr) got.err += new TextDecoder().decode(chunk);
    })();
    return got;
  };

  beforeAll(async () => {
    tls = makeCertificate(dir.path);
    server = await startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key, '--token', TOKEN], { CHAT_FAULTS: '1' });
  });
  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  it('announces an https URL and answers HTTP/2 and HTTP/1.1 on the same port', () => {
    expect(server.url).toStartWith('https://127.0.0.1:');
    const version = (flag: string) => curl(flag, '-o', '/dev/null', '-w', '%{http_version}', `${server.url}/healthz`).stdout.toString();
    expect(version('--http2')).toBe('2');
    expect(version('--http1.1')).toBe('1.1');
  });

  it('streams to curl --http2, and resumes after its Last-Event-ID with nothing lost or repeated', async () => {
    const room = 'tls';
    const first = follow(`${server.url}/rooms/${room}/events?format=text`);
    await waitFor(() => first.out.includes('here:'), 'the presence line');
    const a = post(room, 'one');
    post(room, 'two', '--http1.1');
    await waitFor(() => first.out.includes('tess: two'), 'both lines over HTTP/2');
    expect(first.err).toMatch(/< HTTP\/2 200/);
    first.proc.kill();
    await first.proc.exited;
    post(room, 'three'); // while nobody follows
    const resumed = follow(`${server.url}/rooms/${room}/events?format=json`, '-H', `Last-Event-ID: ${a.id}`);
    await waitFor(() => resumed.out.includes('"three"'), 'the message posted while away');
    const texts = [...resumed.out.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]);
    expect(texts).toEqual(['two', 'three']);
    expect(resumed.err).toMatch(/< HTTP\/2 200/);
    resumed.proc.kill();
    await resumed.proc.exited;
  });

  it('streams to EventSource in Chromium over HTTP/2, which resumes after a drop with nothing lost', async () => {
    const room = 'tls-browser';
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const signedIn = await page.request.post(`${server.url}/login`, { form: { token: TOKEN, next: '/' }, maxRedirects: 0 });
      expect(signedIn.status()).toBe(303);
      expect(signedIn.headers()['set-cookie']).toContain('Secure'); // over https
      await page.goto(`${server.url}/healthz`);
      await page.evaluate((url) => {
        const w = window as unknown as { got: string[]; opens: number };
        w.got = [];
        w.opens = 0;
        const source = new EventSource(url);
        source.onopen = () => w.opens++;
        source.onmessage = (e) => w.got.push(JSON.parse(e.data).text);
      }, `/rooms/${room}/events`);
      await page.waitForFunction(() => (window as unknown as { opens: number }).opens === 1);
      post(room, 'before the drop');
      await page.waitForFunction(() => (window as unknown as { got: string[] }).got.length === 1);
      expect(curl('-X', 'POST', '-H', `Authorization: Bearer ${TOKEN}`, `${server.url}/debug/rooms/${room}/drop`).exitCode).toBe(0);
      post(room, 'while reconnecting');
      post(room, 'after');
      await page.waitForFunction(() => (window as unknown as { got: string[] }).got.length >= 3);
      expect(await page.evaluate(() => {
        const w = window as unknown as { got: string[]; opens: number };
        return { got: w.got, opens: w.opens };
      })).toEqual({
        got: ['before the drop', 'while reconnecting', 'after'],
        opens: 2,
      });
      const protocol = await page.evaluate((url) => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) => e.name.includes(url))?.nextHopProtocol, `/rooms/${room}/events`);
      expect(protocol).toBe('h2');
    } finally {
      await browser.close();
    }
  });
});

describe('--tls-cert and --tls-key at start', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  /** Starts the server with these arguments; it must stop at once with exit 2. */
  const refused = (args: string[]) => {
    const run = Bun.spawnSync([...SERVER_COMMAND, '--port', '0', '--store', 'memory', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', timeout: 20_000 });
    return { code: run.exitCode, err: run.stderr.toString() };
  };

  it('stops with exit 2 and a message naming the file that is missing, not PEM, or not the key of the certificate', () => {
    const good = makeCertificate(dir.path);
    const other = makeCertificate(tempDir().path);
    const junk = join(dir.path, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const missing = join(dir.path, 'missing.pem');
    const cases: [string[], RegExp][] = [
      [['--tls-cert', missing, '--tls-key', good.key], new RegExp(`--tls-cert .*"${missing}": cannot read it \\(ENOENT\\)`)],
      [['--tls-cert', junk, '--tls-key', good.key], new RegExp(`--tls-cert .*"${junk}": not a PEM certificate`)],
      [['--tls-cert', good.cert, '--tls-key', junk], new RegExp(`--tls-key .*"${junk}": not a PEM private key`)],
      [['--tls-cert', good.cert, '--tls-key', other.key], new RegExp(`--tls-key .*"${other.key}": this key is not the key of the certificate`)],
      [['--tls-cert', good.cert], /--tls-key is missing/],
    ];
    for (const [args, message] of cases) {
      const run = refused(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.err).toMatch(message);
    }
  });
});
