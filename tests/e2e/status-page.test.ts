/**
 * GET /status in a real headless Chromium against a real server run with --token: the page sends you to sign in,
 * then shows the rooms with their stream counts, the Workers, messages per second while messages flow, the
 * latency chart with points, and takes a new snapshot about every second, with nothing refused by the CSP.
 *
 * `THREADCHAT_DOCS=1 bun test tests/e2e/status-page.test.ts` also writes the README's screenshot, docs/status.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { openStream, post, ROOT, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { launchBrowser } from './browser-helpers.ts';

const TOKEN = 'status page token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
const number = async (page: Page, selector: string) => Number((await text(page, selector)) ?? NaN);

describe('the status page in a browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  const streams: Stream[] = [];
  const problems: string[] = [];
  let posting: ReturnType<typeof setInterval> | undefined;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--warm', '4'], { CHAT_TOKEN: TOKEN });
    const people = [['alpha', 'ann'], ['alpha', 'al'], ['alpha', 'abe'], ['beta', 'bea'], ['beta', 'bo']] as const;
    for (const [room, name] of people) streams.push(await openStream(`${server.url}/rooms/${room}/events?name=${name}`, AUTH));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    clearInterval(posting);
    for (const s of streams) s.close();
    await browser?.close();
    await server.stop();
  });

  it('signs in, then shows rooms, Workers, rates and the latency chart, live once a second', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

    await page.goto(`${server.url}/status`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.locator('input[name=token]').fill(TOKEN);
    await page.locator('input[name=token]').press('Enter');
    await page.waitForURL(`${server.url}/status`);
    await page.locator('.status-view').waitFor();

    expect(await text(page, '#stat-rooms tr[data-room=alpha] td')).toBe('3');
    expect(await text(page, '#stat-rooms tr[data-room=beta] td')).toBe('2');
    expect(await number(page, '#stat-streams')).toBe(5);
    expect(await number(page, '#stat-watchers')).toBe(1);
    expect(await number(page, '[data-stat=serving]')).toBe(6); // five room streams and this page's, a Worker each
    expect(await number(page, '[data-stat=threads]')).toBeGreaterThanOrEqual(6);

    let sent = 0;
    posting = setInterval(() => void post(server.url, sent++ % 2 ? 'beta' : 'alpha', { name: 'poster', text: `m${sent}` }, AUTH).catch(() => {}), 100);
    await waitFor(async () => (await number(page, '[data-stat=messages]')) > 0, 'messages per second above 0');
    expect(await number(page, '[data-stat=deliveries]')).toBeGreaterThan(0);
    await waitFor(async () => Number(await page.locator('svg.latency-chart').getAttribute('data-points')) > 0, 'points in the chart');
    expect(await page.locator('svg.latency-chart circle').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.latency-chart polyline.p99').getAttribute('points')).toMatch(/^\d+(\.\d)?,\d+(\.\d)?/);
    expect(await text(page, '#stat-p99')).toMatch(/ms$/);

    // A new snapshot about every second: the times at which the page's snapshot number moved.
    const snapshot = () => page.locator('.status-view').getAttribute('data-snapshot');
    const changes: number[] = [];
    let seen = await snapshot();
    while (changes.length < 3) {
      const before = seen;
      seen = await waitFor(async () => {
        const now = await snapshot();
        return now !== before ? now : null;
      }, 'the next snapshot', 3000);
      changes.push(Date.now());
    }
    for (let i = 1; i < changes.length; i++) {
      expect(changes[i]! - changes[i - 1]!).toBeGreaterThan(600);
      expect(changes[i]! - changes[i - 1]!).toBeLessThan(1700);
    }

    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'status.png'), fullPage: true, animations: 'disabled' });
    if (process.env.THREADCHAT_DOCS === '1') await page.screenshot({ path: join(ROOT, 'docs', 'status.png'), fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});

describe('the status page when the server has no room for its stream at first', () => {
  it('retries the refused first connect, and goes live once there is room', async () => {
    const server = await startServer(['--store', 'memory', '--max-streams', '1']);
    const browser = await launchBrowser();
    try {
      const taken = await openStream(`${server.url}/rooms/full/events`); // the one stream the server takes
      expect(taken.status).toBe(200);
      const page = await (await browser.newContext()).newPage();
      const refused = page.waitForResponse((r) => r.url().includes('/status/events') && r.status() === 503);
      await page.goto(`${server.url}/status`);
      await refused; // the first connect was answered 503
      taken.close();
      await page.locator('.status-view').waitFor({ timeout: 15_000 }); // retried once there is room
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
