/**
 * The room page in a real headless Chromium against a real server: live delivery between two pages, history on
 * reload, escaping, the CSP, resuming after the server drops a stream, and the page without JavaScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { createHub } from '../../fanout/hub.ts';
import { openStream, post, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { freePort } from './terminal-helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const XSS = '<img src=x onerror=alert(1)>';

interface Shown {
  id: string;
  name: string;
  text: string;
  mine: boolean;
  time: string;
  datetime: string;
}

/** The messages a page shows, in order, as the reader sees them. */
const shown = (page: Page): Promise<Shown[]> =>
  page.$$eval('#messages .msg', (items) =>
    items.map((li) => ({
      id: li.getAttribute('data-id') ?? '',
      name: li.querySelector('.name')?.textContent ?? '',
      text: li.querySelector('.text')?.textContent ?? '',
      mine: li.classList.contains('mine'),
      time: li.querySelector('time')?.textContent ?? '',
      datetime: li.querySelector('time')?.getAttribute('datetime') ?? '',
    })),
  );

const copies = async (page: Page, text: string) => (await shown(page)).filter((m) => m.text === text).length;

/** Waits until `page` shows `text`; returns the message. */
const shows = async (page: Page, text: string, ms = 10_000) =>
  waitFor(async () => (await shown(page)).find((m) => m.text === text), `"${text}" on the page`, ms);

const state = (page: Page) => page.locator('#status').getAttribute('data-state');

describe('the room page in a browser', () => {
  const data = tempDir();
  const room = 'browser';
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;

  /** A new page in its own context (its own storage); `expected` is console output this page should produce. */
  const open = (label: string, options: BrowserContextOptions, expected?: RegExp) => openPage(browser, label, problems, options, expected);

  /** Opens the room, answers the one-time name question, and waits until the room lists this person. */
  const enter = (page: Page, name: string) => enterRoom(page, `${server.url}/rooms/${room}`, name);

  const send = async (page: Page, text: string) => {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer(['--data', data.path], { CHAT_FAULTS: '1' });
    browser = await launchBrowser();
    alice = await open('alice', { viewport: { width: 1100, height: 720 }, locale: 'en-US', timezoneId: 'America/New_York' });
    bob = await open('bob', {
      viewport: { width: 390, height: 760 },
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
      locale: 'en-GB',
      timezoneId: 'Asia/Kolkata',
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data.remove();
  });

  it('serves the history in the HTML under a strict CSP, with versioned assets', async () => {
    await post(server.url, room, { name: 'carol', text: 'Morning! Standup notes are in the doc.' });
    await post(server.url, room, { name: 'carol', text: 'Who is looking at the flaky deploy?' });
    const res = await fetch(`${server.url}/rooms/${room}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    expect(html).toContain('Who is looking at the flaky deploy?');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/); // no inline script
    expect(html).not.toMatch(/\sstyle=/); // no inline style
    for (const asset of ['app.js', 'app.css', 'htmx.min.js', 'hx-sse.min.js']) expect(html).toMatch(new RegExp(`/static/${asset}\\?v=[0-9a-f]{8,}`));
  });

  it('shows a message typed in one page in the other within 2 s, exactly once in each', async () => {
    await enter(alice, 'alice');
    await enter(bob, 'bob');
    // Presence: each sees the other, and alice got a notice when bob came in.
    await alice.locator('#members .person', { hasText: 'bob' }).waitFor();
    await bob.locator('#members .person', { hasText: 'alice' }).waitFor();
    await alice.locator('#messages .notice', { hasText: 'bob joined' }).waitFor();
    // Each page's first, nameless stream closes as its named one opens: the count settles at two.
    await waitFor(async () => (await bob.locator('#count').textContent()) === '2', 'bob to count two people here');

    const text = 'Hey Bob, the deploy is green again. Did you change the health check?';
    const sentAt = Date.now();
    await send(alice, text);
    await shows(bob, text, 2000);
    const latency = Date.now() - sentAt;
    expect(latency).toBeLessThan(2000);
    await shows(alice, text);
    expect(await alice.locator('#text').inputValue()).toBe(''); // the box cleared itself
    expect(await copies(alice, text)).toBe(1);
    expect(await copies(bob, text)).toBe(1);
    for (const page of [alice, bob]) expect(await page.locator('#messages').getAttribute('data-dupes')).toBe('0');
    expect((await shows(alice, text)).mine).toBe(true);
    expect((await shows(bob, text)).mine).toBe(false);

    // Shift+Enter is a new line, Enter sends.
    await bob.locator('#text').fill('Yes: it now waits for the worker pool.');
    await bob.locator('#text').press('Shift+Enter');
    await bob.keyboard.type('Details: https://example.com/runbook/deploys');
    await bob.locator('#text').press('Enter');
    const multi = 'Yes: it now waits for the worker pool.\nDetails: https://example.com/runbook/deploys';
    await shows(alice, multi);
    expect(await copies(bob, multi)).toBe(1);
    expect(await alice.locator('#messages .text a[href="https://example.com/runbook/deploys"]').count()).toBe(1);

    // Times are the reader's local time (each page has its own zone).
    const message = await shows(bob, text);
    const local = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Kolkata' });
    expect(message.time).toBe(local.format(new Date(message.datetime)));
  });

  it('shows a message full of markup as text', async () => {
    await send(bob, XSS);
    await shows(alice, XSS);
    await shows(bob, XSS);
    for (const page of [alice, bob]) {
      expect(await page.locator('#messages img').count()).toBe(0);
      expect(await copies(page, XSS)).toBe(1);
    }
    expect(problems.filter((p) => p.includes('dialog'))).toEqual([]);
  });

  it('shows the same history after a reload', async () => {
    const before = await shown(bob);
    expect(before.length).toBeGreaterThanOrEqual(5);
    await bob.reload();
    await waitFor(async () => (await state(bob)) === 'live', "bob's stream after the reload");
    const after = await shown(bob);
    expect(after.map((m) => [m.id, m.name, m.text, m.mine])).toEqual(before.map((m) => [m.id, m.name, m.text, m.mine]));
    expect(after.filter((m) => m.mine).map((m) => m.text)).toEqual([before.find((m) => m.text.startsWith('Yes:'))!.text, XSS]);
    expect(await bob.locator('#name-form').isHidden()).toBe(true); // the name is asked once
  });

  it('shows a message posted while its stream was down once it reconnects, once', async () => {
    const seen = 'Looks good from here. Shipping the fix now.';
    await send(alice, seen);
    const last = await shows(bob, seen); // bob's stream now holds this id as its Last-Event-ID

    // Hold bob's reconnect, so the next message is posted while his stream is certainly down.
    const reconnects: (string | undefined)[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bob.route(/\/rooms\/[^/]+\/events\?/, async (route) => {
      reconnects.push((await route.request().allHeaders())['last-event-id']);
      await gate;
      await route.continue();
    });
    const drop = await fetch(`${server.url}/debug/rooms/${room}/drop`, { method: 'POST' });
    expect(drop.status).toBe(200);
    expect((await drop.json()).dropped).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await state(bob)) === 'reconnecting', 'bob to show that he is reconnecting');
    expect(await bob.locator('#status').textContent()).toBe('Reconnecting…');
    await waitFor(() => reconnects.length > 0, "bob's reconnect attempt");
    expect(reconnects[0]).toBe(last.id);

    const missed = 'Fix is out. Bob, ping me when you are back.';
    await send(alice, missed);
    await shows(alice, missed);
    expect(await copies(bob, missed)).toBe(0);

    release();
    await shows(bob, missed, 10_000);
    await waitFor(async () => (await state(bob)) === 'live', 'bob to be live again');
    await waitFor(async () => (await state(alice)) === 'live', 'alice to be live again');
    for (const page of [alice, bob]) {
      expect(await copies(page, missed)).toBe(1);
      expect(await copies(page, seen)).toBe(1);
      expect(await page.locator('#messages').getAttribute('data-dupes')).toBe('0'); // the server sent no duplicate
    }
    await bob.unroute(/\/rooms\/[^/]+\/events\?/);
    // Both are listed again, and the reconnect itself was not announced as news.
    await alice.locator('#members .person', { hasText: 'bob' }).waitFor();
    await bob.locator('#members .person', { hasText: 'alice' }).waitFor();
    expect(await alice.locator('#messages .notice').allTextContents()).toEqual(['bob joined']);

    await alice.screenshot({ path: join(ARTIFACTS, 'page-alice-desktop.png'), animations: 'disabled' });
    await bob.screenshot({ path: join(ARTIFACTS, 'page-bob-phone-dark.png'), animations: 'disabled' });
  });

  it('follows new messages at the bottom, and stops following when the reader scrolls up', async () => {
    const list = bob.locator('#messages');
    const fromBottom = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    // Enough history that scrolling up leaves the reader well away from the bottom.
    const lines = ['Retro notes, what went well?', 'Alerts caught the bad deploy in 2 minutes.', 'Rollback took 30 s.', 'What went badly?',
      'The health check passed while the pool was still warming up.', 'Action: wait for the pool (done, thanks Bob).'];
    for (const text of lines) await post(server.url, room, { name: 'carol', text });
    await shows(bob, lines.at(-1)!);
    expect(await list.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeGreaterThan(250);
    expect(await fromBottom()).toBeLessThan(2);
    await list.evaluate((el) => el.scrollTo(0, 0));
    await bob.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await send(alice, 'One more thing: the retro moved to 4 pm.');
    await shows(bob, 'One more thing: the retro moved to 4 pm.');
    await bob.locator('#jump', { hasText: '1 new message' }).waitFor();
    expect(await list.evaluate((el) => el.scrollTop)).toBe(0); // the reader stays where they were
    await bob.locator('#jump').click();
    await waitFor(async () => (await fromBottom()) < 2, 'the jump to the newest message');
    await bob.locator('#jump').waitFor({ state: 'hidden' });
    await send(alice, 'See you there.');
    await shows(bob, 'See you there.');
    expect(await fromBottom()).toBeLessThan(2);
  });

  it('retries a stream the server refused with 503, without showing the refusal, and goes live once there is room', async () => {
    // A second server that allows one stream per address: a stream held by curl-like fetch fills it.
    const full = await startServer(['--store', 'memory', '--max-streams-per-ip', '1']);
    const holder = await openStream(`${full.url}/rooms/full/events`);
    const page = await open('refused', { viewport: { width: 800, height: 600 } }, /status of 503/);
    try {
      const refusals: string[] = [];
      page.on('response', (r) => {
        if (/\/rooms\/full\/events\?/.test(r.url()) && r.status() === 503) refusals.push(r.headers()['retry-after'] ?? '');
      });
      await page.goto(`${full.url}/rooms/full`);
      await waitFor(() => refusals.length >= 1, "the server's 503 at the page");
      expect(Number(refusals[0])).toBeGreaterThanOrEqual(1);
      expect(await state(page)).not.toBe('live');
      holder.close();
      await waitFor(async () => (await state(page)) === 'live', 'a live stream once the server has room', 20_000);
      expect(await page.locator('#messages').textContent()).not.toContain('streams open');
    } finally {
      holder.close();
      await page.context().close();
      await full.stop();
    }
  });

  it('goes to another room from the switcher', async () => {
    await alice.locator('#room-input').fill('Side Room');
    await alice.locator('#room-input').press('Enter');
    await alice.waitForURL(`${server.url}/rooms/side-room`);
    expect(await alice.locator('h1').textContent()).toBe('#side-room');
  });

  it('shows history and posts with the plain form without JavaScript', async () => {
    const page = await open('no-js', { javaScriptEnabled: false, viewport: { width: 800, height: 600 } });
    await page.goto(`${server.url}/rooms/${room}`);
    expect(await copies(page, XSS)).toBe(1);
    await page.locator('input[name="name"]').fill('dave');
    await page.locator('#text').fill('Posting from a browser without JavaScript');
    await page.locator('#send button[type="submit"]').click();
    await page.waitForURL(/\/rooms\/browser\?name=dave#m-\d+$/); // the name comes back for the form's name field
    const mine = await shows(page, 'Posting from a browser without JavaScript');
    expect(mine.name).toBe('dave');
    expect(await page.locator('input[name="name"]').inputValue()).toBe('dave');
    await shows(bob, 'Posting from a browser without JavaScript');
    await page.context().close();
  });

  it('applies the dark theme and the one-column phone layout, and the light two-column one on a desktop', async () => {
    const look = (page: Page) => page.evaluate(() => ({
      background: getComputedStyle(document.body).backgroundColor,
      columns: getComputedStyle(document.querySelector('.app')!).gridTemplateColumns.split(' ').length,
    }));
    expect(await look(alice)).toEqual({ background: 'rgb(246, 245, 251)', columns: 2 });
    expect(await look(bob)).toEqual({ background: 'rgb(21, 20, 28)', columns: 1 });
  });

  it('gives each tab its own client id: two tabs of one browser see each other\'s messages once', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const [one, two] = [await context.newPage(), await context.newPage()];
      for (const tab of [one, two]) tab.setDefaultTimeout(10_000);
      await enter(one, 'carol');
      await two.goto(`${server.url}/rooms/${room}`); // same storage: the name is known already
      await waitFor(async () => (await state(two)) === 'live', "the second tab's stream to be live");
      const ids = await Promise.all([one, two].map((tab) => tab.evaluate(() => sessionStorage.getItem('threadchat.client'))));
      expect(ids[0]).toBeString();
      expect(ids[1]).toBeString();
      expect(ids[0]).not.toBe(ids[1]);
      // The id is the tab's secret: it goes in a header, never in the stream's URL (logs and proxies keep URLs).
      for (const tab of [one, two]) expect(await tab.locator('[hx-sse\\:connect]').first().getAttribute('hx-sse:connect')).not.toContain('client=');
      await send(one, 'from the first tab');
      await shows(two, 'from the first tab');
      await send(two, 'from the second tab');
      await shows(one, 'from the second tab');
      for (const tab of [one, two]) {
        expect(await copies(tab, 'from the first tab')).toBe(1);
        expect(await copies(tab, 'from the second tab')).toBe(1);
      }
    } finally {
      await context.close();
    }
  });

  it('tells the room when someone joins and when they leave', async () => {
    await alice.goto(`${server.url}/rooms/${room}`); // back from the side room; her name is known
    await waitFor(async () => (await state(alice)) === 'live', "alice's stream to be live");
    const dave = await open('dave', { viewport: { width: 1100, height: 720 } });
    await enter(dave, 'dave');
    await alice.locator('#messages .notice', { hasText: 'dave joined' }).waitFor();
    await alice.locator('#members .person', { hasText: 'dave' }).waitFor();
    await dave.context().close();
    await alice.locator('#messages .notice', { hasText: 'dave left' }).waitFor();
    await alice.locator('#members .person', { hasText: 'dave' }).waitFor({ state: 'detached' });
  });

  it('logged no errors, warnings or CSP violations', () => {
    expect(problems).toEqual([]);
  });
});

describe('the page across a restart that lost the history', () => {
  it('says so, drops the messages the server no longer has, and shows what it has', async () => {
    const port = freePort(); // the same port after the restart: the page knows only that URL
    let server = await startServer(['--port', String(port), '--store', 'memory']);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(10_000);
      await post(server.url, 'reset', { name: 'dora', text: 'from the old server' });
      await page.goto(`${server.url}/rooms/reset`);
      await page.locator('#name-input').fill('erin');
      await page.locator('#name-input').press('Enter');
      await shows(page, 'from the old server');
      await post(server.url, 'reset', { name: 'dora', text: 'live on the old server' });
      await shows(page, 'live on the old server'); // the page's Last-Event-ID is now this message's id
      expect(await server.stop()).toBe(0);
      await waitFor(async () => (await state(page)) === 'reconnecting', 'the page to see the server gone');
      server = await startServer(['--port', String(port), '--store', 'memory']);
      await post(server.url, 'reset', { name: 'dora', text: 'first on the new server' });
      await shows(page, 'first on the new server', 20_000);
      await page.locator('#messages .notice', { hasText: 'The server was reset' }).waitFor();
      expect((await shown(page)).map((m) => m.text)).toEqual(['first on the new server']);
      await post(server.url, 'reset', { name: 'dora', text: 'live on the new server' });
      await shows(page, 'live on the new server');
      expect((await shown(page)).map((m) => m.text)).toEqual(['first on the new server', 'live on the new server']);
    } finally {
      await browser.close();
      await server.stop();
    }
  }, 60_000);
});

describe('POST /debug/rooms/:room/drop', () => {
  it('is not there without fault injection', async () => {
    const store = createMemoryStore();
    const hub = createHub({ store, logger: createLogger('silent'), maxStreams: 2, replayPage: 10 });
    const runtime = { name: 'bun' as const, peer: () => 'test:1', address: () => 'test', keepOpen: () => {} };
    const app = createApp({ config: loadConfig(['--store', 'memory'], {}), store, hub, logger: createLogger('silent'), runtime });
    const res = await app.request('/debug/rooms/main/drop', { method: 'POST' });
    expect(res.status).toBe(404);
    await hub.close();
  });
});

describe('the sign-in in a browser', () => {
  it('signs in on the page, the room works, and Sign out returns to the sign-in page', async () => {
    const token = 'a browser token, long enough';
    const server = await startServer(['--store', 'memory'], { CHAT_TOKEN: token });
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${server.url}/rooms/door`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.locator('input[name=token]').fill('not it');
      await page.locator('input[name=token]').press('Enter');
      await page.locator('.login-error', { hasText: 'That token is not right' }).waitFor();
      await page.locator('input[name=token]').fill(token);
      await page.locator('input[name=token]').press('Enter');
      await page.waitForURL(`${server.url}/rooms/door`);
      const cookies = await page.context().cookies();
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['chat_session', true, 'Strict']]);
      expect(cookies[0]!.value).not.toContain('browser');

      await page.locator('#name-input').fill('erin');
      await page.locator('#name-input').press('Enter');
      await waitFor(async () => (await state(page)) === 'live', "erin's stream to be live");
      await post(server.url, 'door', { name: 'frank', text: 'through the door' }, { Authorization: `Bearer ${token}` });
      await shows(page, 'through the door');
      await page.locator('#text').fill('hello from inside');
      await page.locator('#text').press('Enter');
      await shows(page, 'hello from inside');

      await page.locator('#sign-out').click();
      await page.waitForURL(`${server.url}/login`);
      expect(await page.context().cookies()).toEqual([]);
      await page.goto(`${server.url}/rooms/door`);
      expect(new URL(page.url()).pathname).toBe('/login');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.stop();
    }
  }, 60_000);
});
