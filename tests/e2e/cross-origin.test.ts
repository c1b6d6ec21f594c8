/**
 * Cross-site request forgery in real Chromium: a hostile page on another origin (a tiny server of the test's
 * own) posts into a room with a form that submits itself and with a `no-cors` fetch. Nothing may be stored, in
 * each server setup of SETUPS (open; --token and accounts with the browser signed in), while the room's own page
 * still posts.
 *
 * The hostile page comes from two origins: `http://127.0.0.1:OTHER` is same-site with the chat's
 * `http://127.0.0.1:PORT` (a site ignores the port), so the browser sends the SameSite=Strict sign-in cookie with
 * it and only the Origin check stands in the way; `http://localhost:OTHER` is cross-site.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page, Response } from 'playwright-core';
import { join } from 'node:path';
import { BUN, ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';
import { enterRoom, enterRoomSignedIn, launchBrowser, openPage } from './browser-helpers.ts';

const TOKEN = 'a cross-origin token';

/** One way to run the server, and how a browser gets in and the test reads history. Add a setup here to cover it. */
interface Setup {
  name: string;
  args: string[];
  /** What the test sends to read history. */
  headers: Record<string, string>;
  /** Signs the browser's context in (nothing in open mode). */
  signIn(page: Page, base: string): Promise<void>;
  /** Before the server starts: what it needs (accounts made), and the arguments that use it. */
  prepare?(): Promise<string[]>;
}

const PASSWORD = 'a cross-origin password';
const accountsData = tempDir();

const SETUPS: Setup[] = [
  { name: 'open', args: [], headers: {}, signIn: async () => {} },
  {
    name: '--token, the browser signed in',
    args: ['--token', TOKEN],
    headers: { Authorization: `Bearer ${TOKEN}` },
    async signIn(page, base) {
      await page.goto(`${base}/login`);
      await page.locator('input[name=token]').fill(TOKEN);
      await page.locator('input[name=token]').press('Enter');
      await page.waitForURL(`${base}/`);
    },
  },
  {
    name: 'accounts, the browser signed in',
    args: [],
    headers: { Authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` },
    async prepare() {
      const add = Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), 'add', 'alice', '--password-stdin', '--data', accountsData.path], { stdin: new Blob([PASSWORD]) });
      if (add.exitCode !== 0) throw new Error(`user add failed: ${add.stderr.toString()}`);
      return ['--store', 'sqlite', '--data', accountsData.path, '--auth', 'accounts'];
    },
    async signIn(page, base) {
      await page.goto(`${base}/login`);
      await page.locator('input[name=user]').fill('alice');
      await page.locator('input[name=password]').fill(PASSWORD);
      await page.locator('input[name=password]').press('Enter');
      await page.waitForURL(`${base}/`);
    },
  },
];
afterAll(() => accountsData.remove());

/** The attacker's pages: `/form` submits a form to `target`, `/fetch` sends the same body with a no-cors fetch. */
function hostileServer() {
  const html = (body: string) => new Response(`<!DOCTYPE html><title>win a prize</title>${body}`, { headers: { 'Content-Type': 'text/html' } });
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const url = new URL(req.url);
      const target = url.searchParams.get('target') ?? '';
      const text = url.searchParams.get('text') ?? '';
      if (url.pathname === '/form') {
        return html(`<form method="post" action="${attr(target)}"><input name="name" value="mallory"><input name="text" value="${attr(text)}"></form>
<script>document.forms[0].submit()</script>`);
      }
      if (url.pathname === '/fetch') {
        // no-cors: the script never sees the answer, but the request goes out; credentials as a real attack would.
        return html(`<script>fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
  body: new URLSearchParams({ name: 'mallory', text: ${JSON.stringify(text)} }) }).finally(() => { document.title = 'sent' })</script>`);
      }
      return new Response('no', { status: 404 });
    },
  });
}

for (const setup of SETUPS) {
  describe(`a hostile page on another origin, server ${setup.name}`, () => {
    let server: ServerProcess;
    let browser: Browser;
    let hostile: ReturnType<typeof Bun.serve>;
    beforeAll(async () => {
      server = await startServer(setup.prepare ? await setup.prepare() : ['--store', 'memory', ...setup.args]);
      browser = await launchBrowser();
      hostile = hostileServer();
    });
    afterAll(async () => {
      hostile?.stop(true);
      await browser?.close();
      await server?.stop();
    });

    const history = async (room: string) =>
      ((await (await fetch(`${server.url}/rooms/${room}/messages?limit=500`, { headers: setup.headers })).json()) as { messages: { text: string }[] }).messages.map((m) => m.text);

    it('stores nothing from a self-submitting form or a no-cors fetch, from a same-site or a cross-site origin', async () => {
      const room = 'forged';
      const target = `${server.url}/rooms/${room}/messages`;
      const problems: string[] = [];
      const page = await openPage(browser, 'hostile', problems);
      await setup.signIn(page, server.url);
      const tried: { from: string; how: string; status: number; cookie: boolean }[] = [];
      for (const from of [`http://127.0.0.1:${hostile.port}`, `http://localhost:${hostile.port}`]) {
        for (const how of ['form', 'fetch']) {
          const text = `forged by ${how} from ${from}`;
          const answered = page.waitForResponse((r: Response) => r.url() === target && r.request().method() === 'POST');
          await page.goto(`${from}/${how}?${new URLSearchParams({ target, text })}`);
          const response = await answered;
          // What the browser sent: Playwright reports it in full for a navigation; for a no-cors fetch it leaves
          // out Origin, Sec-Fetch-* and Cookie, which Chromium sends all the same.
          const headers = how === 'form' ? await response.request().allHeaders() : {};
          if (how === 'form') expect([headers.origin, headers['sec-fetch-site']]).toEqual([from, from.includes('127.0.0.1') ? 'same-site' : 'cross-site']);
          tried.push({ from, how, status: response.status(), cookie: (headers.cookie ?? '').includes('chat_session=') });
        }
      }
      console.log(`cross-origin (${setup.name}): ${tried.map((t) => `${t.how} from ${t.from} -> ${t.status}${t.cookie ? ' (cookie sent)' : ''}`).join('; ')}`);
      for (const t of tried) expect({ ...t, status: t.status }).toEqual({ ...t, status: 403 });
      // Signed in, the same-site attempts carried the sign-in cookie: what refused them is the Origin check.
      if (setup.name !== 'open') expect(tried.filter((t) => t.cookie).map((t) => `${t.how} ${t.from}`)).toEqual([`form http://127.0.0.1:${hostile.port}`]);
      expect(await history(room)).toEqual([]);
    });

    it("still posts from the room's own page, in the same browser", async () => {
      const room = 'own-page';
      const problems: string[] = [];
      const page = await openPage(browser, 'alice', problems);
      await setup.signIn(page, server.url);
      // Signed in with an account, the page asks no name: it is the account's.
      if (setup.name.startsWith('accounts')) await enterRoomSignedIn(page, `${server.url}/rooms/${room}`, 'alice');
      else await enterRoom(page, `${server.url}/rooms/${room}`, 'alice');
      await page.locator('#text').fill('posted from the page');
      await page.locator('#text').press('Enter');
      await page.locator('#messages .text', { hasText: 'posted from the page' }).waitFor();
      expect(await history(room)).toEqual(['posted from the page']);
      expect(problems).toEqual([]);
    });
  });
}
