/**
 * "N here" on the room page, in real Chromium against a real server with real streams: the heading counts the
 * people the list shows (distinct names: two streams named alice are one person), says "and N watching" for
 * streams without a name, and counts neither the /status stream nor the page's own connection before it has a name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { openStream, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { launchBrowser, openPage } from './browser-helpers.ts';

describe('who is here, counted on the page', () => {
  const room = 'counting';
  const problems: string[] = [];
  const streams: Stream[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;

  /** The heading as read: "2 here and 1 watching". */
  const heading = async () => ((await page.locator('#people-title').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const listed = () => page.locator('#members .person').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.name));
  const shows = async (text: string, what: string) => {
    try {
      await waitFor(async () => (await heading()) === text, `${what}: "${text}"`);
    } catch (error) {
      throw new Error(`${String(error)}; the heading reads "${await heading()}"`);
    }
  };
  const stream = async (query: string) => {
    const s = await openStream(`${server.url}/rooms/${room}/events?${query}`);
    streams.push(s);
    await s.next((e) => e.event === 'presence', 'its first presence event');
    return s;
  };

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
    page = await openPage(browser, 'viewer', problems);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await browser?.close();
    await server?.stop();
  });

  it('an empty room, seen by a page that has no name yet: nobody here, and the page itself is no watcher', async () => {
    await page.goto(`${server.url}/rooms/${room}`);
    await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the page to be live');
    // Someone comes and goes: the page has had presence events, the last with nobody named in it.
    const zed = await stream('name=zed');
    await page.locator('#members .person', { hasText: 'zed' }).waitFor();
    await shows('1 here', 'zed in the room');
    zed.close();
    await waitFor(async () => (await listed()).length === 0, 'zed to leave the list');
    await shows('0 here', 'nobody named in the room');
    // As the server renders the room for someone else: this page's stream is a reader without a name.
    const html = await (await fetch(`${server.url}/rooms/${room}`)).text();
    expect(html).toMatch(/<span id="count">0<\/span> here/);
    expect(html).toMatch(/and 1 watching/);
  });

  it('counts names once however many streams they have, and the unnamed as watching; /status counts for nothing', async () => {
    const status = await openStream(`${server.url}/status/events?format=json`);
    streams.push(status);
    await stream('name=alice');
    await stream('name=alice'); // alice in a second tab
    await stream('name=bob');
    await shows('2 here', 'alice (twice) and bob');
    expect(await listed()).toEqual(['alice', 'bob']);
    await stream('history=0'); // a reader without a name (curl, a script)
    await shows('2 here and 1 watching', 'one reader without a name');
    expect(await page.locator('#count').textContent()).toBe('2');
    await stream('history=0');
    await shows('2 here and 2 watching', 'two readers without a name');

    // The page takes a name: it is one of the people now, and was never one of the watchers.
    await page.locator('#name-input').fill('vic');
    await page.locator('#name-input').press('Enter');
    await shows('3 here and 2 watching', 'vic named');
    expect(await listed()).toEqual(['alice', 'bob', 'vic']);
    // A reader leaves.
    streams.pop()!.close();
    await shows('3 here and 1 watching', 'a reader gone');
    const html = await (await fetch(`${server.url}/rooms/${room}`)).text();
    expect(html).toMatch(/<span id="count">3<\/span> here/);
    expect(html).toMatch(/and 1 watching/);
    expect(problems).toEqual([]);
  });
});
