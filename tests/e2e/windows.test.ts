/**
 * Many room windows of one browser profile, side by side, in real Chromium. Over HTTPS (HTTP/2) eight are all
 * live and a message from the eighth reaches each of the others once. Over plain HTTP/1.1 six streams take the
 * six connections Chromium allows per server: a send from the sixth waits, and the page says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { makeCertificate } from '../tls-helpers.ts';
import { launchBrowser } from './browser-helpers.ts';

const ROOM = 'windows';

/** `count` windows of one profile (one context), each named in advance so none reconnects to take a name. */
async function openWindows(context: BrowserContext, base: string, count: number, loadMs = 15_000): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 1; i <= count; i++) {
    const page = await context.newPage();
    page.setDefaultTimeout(loadMs);
    if (i === 1) {
      await page.goto(`${base}/healthz`);
      await page.evaluate(() => localStorage.setItem('threadchat.name', 'wendy'));
    }
    await page.goto(`${base}/rooms/${ROOM}`);
    await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', `window ${i} to be live`, loadMs);
    pages.push(page);
  }
  return pages;
}

const send = async (page: Page, text: string) => {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
};

const copies = (page: Page, text: string) => page.locator('#messages .msg .text', { hasText: text }).count();

describe('eight windows of one profile', () => {
  const dir = tempDir();
  let browser: Browser;
  let https: ServerProcess;
  let http: ServerProcess;
  beforeAll(async () => {
    const tls = makeCertificate(dir.path);
    [https, http] = await Promise.all([
      startServer(['--store', 'memory', '--tls-cert', tls.cert, '--tls-key', tls.key]),
      startServer(['--store', 'memory']),
    ]);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([https?.stop(), http?.stop()]);
    dir.remove();
  });

  it('are all live over HTTPS (HTTP/2), and a message from the eighth appears once in each of the others', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 640 } });
    const pages = await openWindows(context, https.url, 8);
    for (const page of pages) expect(await page.evaluate(() => document.visibilityState)).toBe('visible');
    expect(await pages[0]!.evaluate(() => performance.getEntriesByType('navigation')[0] && (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)).toBe('h2');
    await send(pages[7]!, 'hello from the eighth window');
    for (const [i, page] of pages.slice(0, 7).entries()) {
      await waitFor(async () => (await copies(page, 'hello from the eighth window')) > 0, `the message in window ${i + 1}`);
    }
    // Every window has had it by now; none shows it twice, and the sender shows it once too.
    for (const page of pages) expect(await copies(page, 'hello from the eighth window')).toBe(1);
    expect(await pages[7]!.locator('#slow-post').isVisible()).toBe(false);
    await context.close();
  });

  it('lock out over plain HTTP/1.1 after six, and the page says why a send waits', async () => {
    const context = await browser.newContext({ viewport: { width: 480, height: 640 } });
    const pages = await openWindows(context, http.url, 6);
    expect(await pages[0]!.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)).toBe('http/1.1');
    await send(pages[5]!, 'stuck behind the streams');
    const notice = pages[5]!.locator('#slow-post');
    await notice.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await notice.getAttribute('data-reason')).toBe('http1');
    expect(await notice.textContent()).toContain('too many windows of this chat are open over plain HTTP');
    expect(await notice.textContent()).toContain('HTTPS');
    // A seventh window does not load at all: every connection is held by a stream.
    const seventh = await context.newPage();
    await expect(seventh.goto(`${http.url}/rooms/${ROOM}`, { timeout: 4000 })).rejects.toThrow(/Timeout/);
    // Closing one window frees its connection: the waiting send goes through and the notice goes.
    await pages[0]!.close();
    await notice.waitFor({ state: 'hidden', timeout: 10_000 });
    await waitFor(async () => (await copies(pages[1]!, 'stuck behind the streams')) === 1, 'the send, once a connection is free');
    await context.close();
  });
});
