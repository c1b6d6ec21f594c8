/**
 * The page's room switcher lists the rooms this person may read, with how many messages arrived in each since this
 * browser last read it there (read positions per browser), in real Chromium against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser } from 'playwright-core';
import { post, startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

describe('the room switcher', () => {
  let server: ServerProcess;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server.stop();
  });

  it('offers the rooms with their unread counts since this browser last read them', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'ann', problems);
    await post(server.url, 'dev', { name: 'bob', text: 'read this' });
    await enterRoom(page, `${server.url}/rooms/dev`, 'ann'); // reads #dev up to "read this"
    await page.locator('#messages .msg', { hasText: 'read this' }).waitFor();
    await post(server.url, 'lobby', { name: 'bob', text: 'lobby news' }); // a room this browser never read
    await page.goto(`${server.url}/rooms/ops`);
    await page.locator('#status[data-state="live"]').waitFor();
    for (let i = 0; i < 3; i++) await post(server.url, 'dev', { name: 'bob', text: `later ${i}` });
    await page.locator('#room-input').focus();
    const labels = async () => page.locator('#recent-rooms option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).label));
    await waitFor(async () => (await labels()).some((l) => l.startsWith('#dev')) || null, 'the room list in the switcher');
    const list = await labels();
    expect(list.find((l) => l.startsWith('#dev'))).toBe('#dev · 3 new');
    expect(list.find((l) => l.startsWith('#lobby'))).toBe('#lobby');
    expect(list.some((l) => l.startsWith('#ops'))).toBe(false); // the room it is in
    expect(problems).toEqual([]);
  });
});
