/**
 * Scrolling back on the room page, in a real headless Chromium against real servers: the page holds the last
 * --history messages; scrolling to the top loads older pages (htmx, the sentinel of views/older.tsx) without
 * moving the message the reader was looking at, without duplicates, up to the start of the room, or up to the
 * notice that retention removed the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type Browser, type Page } from 'playwright-core';
import { post, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { launchBrowser } from './browser-helpers.ts';

const UNLIMITED = ['--post-rate', '0', '--post-rate-ip', '0'];
const room = 'long';

/** 150 messages from three people, some of them two lines high, so pages are of uneven heights. */
async function fill(server: ServerProcess, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const text = i % 7 === 3 ? `message ${i}\nwith a second line` : `message ${i}`;
    ids.push((await post(server.url, room, { name: ['ann', 'bo', 'cy'][i % 3], text })).id);
  }
  return ids;
}

const ids = (page: Page) => page.$$eval('#messages .msg', (items) => items.map((li) => li.getAttribute('data-id') ?? ''));

/**
 * Scrolls the list to its top and returns the first message there and its distance from the list's top edge, read
 * in the same task as the scroll: before the sentinel's request can have started.
 */
const scrollToTop = (page: Page) =>
  page.$eval('#messages', (list) => {
    list.scrollTop = 0;
    const first = list.querySelector('.msg')!;
    return { id: first.getAttribute('data-id')!, y: first.getBoundingClientRect().top - list.getBoundingClientRect().top };
  });
const offsetOf = (page: Page, id: string) =>
  page.$eval('#messages', (list, id) => document.getElementById(`m-${id}`)!.getBoundingClientRect().top - list.getBoundingClientRect().top, id);

describe('scrolling back on the room page', () => {
  const data = tempDir();
  const problems: string[] = [];
  let whole: ServerProcess;
  let trimmed: ServerProcess;
  let browser: Browser;
  let posted: string[];

  const open = async (server: ServerProcess) => {
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 700 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(`console ${m.type()}: ${m.text()}`));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${server.url}/rooms/${room}`);
    await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the stream to be live');
    return page;
  };

  beforeAll(async () => {
    [whole, trimmed] = await Promise.all([
      startServer(['--data', data.path, '--history', '50', ...UNLIMITED]),
      startServer(['--store', 'memory', '--history', '20', '--retention', '60', ...UNLIMITED]),
    ]);
    browser = await launchBrowser();
    posted = await fill(whole, 150);
    await fill(trimmed, 150);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([whole?.stop(), trimmed?.stop()]);
    data.remove();
  });

  it('loads older pages at the top without moving what the reader sees, up to the start of the room', async () => {
    const page = await open(whole);
    expect(await ids(page)).toEqual(posted.slice(100)); // the last --history messages, and a sentinel above them
    expect(await page.locator('#messages > .older').count()).toBe(1);
    let loads = 0;
    while ((await page.locator('#messages .history-start').count()) === 0) {
      const held = (await ids(page)).length;
      const before = await scrollToTop(page);
      await waitFor(async () => (await ids(page)).length > held || (await page.locator('#messages .history-start').count()) > 0, 'older messages to load');
      const after = await offsetOf(page, before.id);
      expect(Math.abs(after - before.y)).toBeLessThanOrEqual(3); // the reader's message stayed where it was
      expect(await page.$eval('#messages', (list) => list.scrollTop)).toBeGreaterThan(0); // so did the reader: not at the top
      expect(++loads).toBeLessThanOrEqual(3);
    }
    expect(loads).toBe(2); // 50 shown, 2 pages of 50 before them
    const all = await ids(page);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(posted); // every message once, in order
    expect(await page.locator('#messages > li:not(.empty)').first().textContent()).toBe(`This is the start of #${room}.`);
    expect(await page.locator('#messages > .older').count()).toBe(0);
    expect(await page.locator('#messages').getAttribute('data-dupes')).toBe('0');
    // Older messages are history, not arrivals: no "new messages" count, no arrival mark.
    expect(await page.locator('#jump').isHidden()).toBe(true);
    expect(await page.locator('#messages .msg.new').count()).toBe(0);
    // New messages still arrive at the bottom, after the whole history.
    const live = await post(whole.url, room, { name: 'dee', text: 'a live one' });
    await waitFor(async () => (await ids(page)).at(-1) === live.id, 'the live message at the bottom');
    expect(problems).toEqual([]);
  });

  it('puts the way back above the oldest message again once a long session dropped the oldest ones', async () => {
    const page = await open(whole);
    while ((await page.locator('#messages .history-start').count()) === 0) {
      const held = (await ids(page)).length;
      await scrollToTop(page);
      await waitFor(async () => (await ids(page)).length > held || (await page.locator('#messages .history-start').count()) > 0, 'older messages to load');
    }
    await page.$eval('#messages', (list) => (list.scrollTop = list.scrollHeight)); // back at the bottom: following
    const shown = (await ids(page)).length;
    const live: string[] = [];
    for (let i = 0; i < 1000; i++) live.push((await post(whole.url, room, { name: 'eve', text: `late ${i}` })).id);
    await waitFor(async () => (await ids(page)).at(-1) === live.at(-1), 'the last live message', 30_000);
    // The page keeps 1000: the oldest went, so "the start of the room" above them is no longer true.
    expect(await ids(page)).toHaveLength(1000);
    expect(await page.locator('#messages .history-start').count()).toBe(0);
    expect(await page.locator('#messages > .older').count()).toBe(1);
    const first = (await ids(page))[0]!;
    await scrollToTop(page);
    await waitFor(async () => (await ids(page))[0] !== first, 'the dropped messages to load again');
    const all = await ids(page);
    expect(new Set(all).size).toBe(all.length);
    const history: string[] = [];
    for (let more = true; more;) {
      const got = await (await fetch(`${whole.url}/rooms/${room}/messages?after=${history.at(-1) ?? '0'}&limit=1000`)).json();
      history.push(...got.messages.map((m: { id: string }) => m.id));
      more = got.more;
    }
    expect(all).toEqual(history.slice(history.indexOf(all[0]!))); // contiguous: no hole where the oldest were dropped
    expect(shown + live.length).toBeGreaterThan(1000);
    expect(problems).toEqual([]);
  }, 120_000);

  it('ends with a notice when retention removed older messages', async () => {
    const page = await open(trimmed);
    const kept = (await (await fetch(`${trimmed.url}/rooms/${room}/messages?limit=1000`)).json()).messages.map((m: { id: string }) => m.id);
    expect(kept.length).toBe(60);
    const notice = page.locator('#messages .history-trimmed');
    while ((await notice.count()) === 0) {
      const held = (await ids(page)).length;
      await scrollToTop(page);
      await waitFor(async () => (await ids(page)).length > held || (await notice.count()) > 0, 'older messages or the notice');
    }
    expect(await notice.textContent()).toBe('Older messages are no longer kept: this server keeps about the last 60 of a room.');
    expect(await ids(page)).toEqual(kept);
    expect(await page.locator('#messages .history-start').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('answers the same pages as JSON over HTTP, and refuses after= with before=', async () => {
    const newest = posted.at(-1)!;
    const page = await (await fetch(`${whole.url}/rooms/${room}/messages?before=${newest}&limit=3`)).json();
    expect(page).toMatchObject({ room, more: true, gap: false, unknown: false, trimmed: false });
    expect(page.messages.map((m: { id: string }) => m.id)).toEqual(posted.slice(-4, -1));
    const oldest = (await (await fetch(`${trimmed.url}/rooms/${room}/messages?limit=1000`)).json()).messages[0].id;
    expect(await (await fetch(`${trimmed.url}/rooms/${room}/messages?before=${oldest}`)).json()).toMatchObject({ messages: [], more: false, trimmed: true });
    const both = await fetch(`${whole.url}/rooms/${room}/messages?before=${newest}&after=${posted[0]}`);
    expect(both.status).toBe(400);
    expect((await both.json()).error).toBe('give one of after= (newer than an id), since= (an id, a duration or all) or before= (older than an id)');
  });
});
