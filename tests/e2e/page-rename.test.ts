/**
 * Renaming yourself on the page, in real headless Chromium against a real server: the open stream takes the new
 * name (PUT …/members/:client) and stays open, the others see a rename and not a leave and a join, later
 * reconnects carry the new name, and a page whose stream is not open yet gets its name through a new connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { type Browser, type Page } from 'playwright-core';
import { startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { launchBrowser, openPage } from './browser-helpers.ts';

const EVENTS = /\/rooms\/[^/]+\/events\?/;

describe('renaming yourself on the page', () => {
  const room = 'names';
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  /** The stream URLs each page asked for, in order. */
  const streams = new Map<Page, string[]>();

  /** A page in its own context; `expected` is console output it should produce. */
  const open = async (label: string, expected?: RegExp) => {
    const page = await openPage(browser, label, problems, { viewport: { width: 1000, height: 700 } }, expected);
    streams.set(page, []);
    page.on('request', (r) => EVENTS.test(r.url()) && streams.get(page)!.push(r.url()));
    return page;
  };
  const state = (page: Page) => page.locator('#status').getAttribute('data-state');
  const live = (page: Page, what: string) => waitFor(async () => (await state(page)) === 'live', what);
  const notices = (page: Page) => page.locator('#messages .notice').allTextContents();
  const names = (page: Page) => page.locator('#members .person-name').allTextContents();
  /** The server's own log: one line per stream accepted or closed, in the room. */
  const connections = () =>
    server.output().split('\n').filter((line) => line.includes(`"room":"${room}"`) && /"msg":"(Accepted|Closed) connection/.test(line)).length;
  const named = (url: string) => new URL(url).searchParams.get('name');

  const enter = async (page: Page, name: string) => {
    await page.goto(`${server.url}/rooms/${room}`);
    await page.locator('#name-input').fill(name);
    await page.locator('#name-input').press('Enter');
    await page.locator('#members .person.you', { hasText: name }).waitFor();
    await live(page, `${name}'s stream to be live`);
  };
  const rename = async (page: Page, name: string) => {
    await page.locator('#me').click();
    await page.locator('#name-input').fill(name);
    await page.locator('#name-input').press('Enter');
  };
  const send = async (page: Page, text: string) => {
    await page.locator('#text').fill(text);
    await page.locator('#text').press('Enter');
  };
  const message = (page: Page, text: string) =>
    waitFor(
      () =>
        page.$$eval('#messages .msg', (items, t) =>
          items.map((li) => ({ name: li.querySelector('.name')?.textContent, text: li.querySelector('.text')?.textContent })).find((m) => m.text === t), text),
      `"${text}" on the page`,
    );

  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--log', 'json'], { CHAT_FAULTS: '1' });
    browser = await launchBrowser();
    alice = await open('alice');
    bob = await open('bob');
    await enter(alice, 'alice');
    await enter(bob, 'bob');
    await alice.locator('#members .person', { hasText: 'bob' }).waitFor();
    await bob.locator('#members .person', { hasText: 'alice' }).waitFor();
    await waitFor(async () => (await bob.locator('#count').textContent()) === '2', 'two streams in the room');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('renames the open stream in place: the room sees a rename, and the stream is not reopened', async () => {
    await alice.evaluate(() => ((window as unknown as { before: Element | null }).before = document.getElementById('stream')));
    const requested = streams.get(alice)!.length;
    const logged = connections();
    const seen = await notices(bob);

    await rename(alice, 'alicia');
    await bob.locator('#messages .notice', { hasText: 'alice is now alicia' }).waitFor();
    await bob.locator('#members .person', { hasText: 'alicia' }).waitFor();
    expect(await names(bob)).toEqual(['alicia', 'bob']);
    expect((await notices(bob)).slice(seen.length)).toEqual(['alice is now alicia']); // no "left", no "joined"
    await alice.locator('#members .person.you', { hasText: 'alicia' }).waitFor();
    expect((await notices(alice)).filter((n) => n.includes('alic'))).toEqual([]); // your own rename is not news to you

    // The same stream goes on: no new request from the page, no stream opened or closed on the server, the same
    // hx-sse element, and it still delivers.
    await send(bob, 'welcome, alicia');
    await message(alice, 'welcome, alicia');
    expect(streams.get(alice)!.length).toBe(requested);
    expect(connections()).toBe(logged);
    expect(await alice.evaluate(() => (window as unknown as { before: Element | null }).before === document.getElementById('stream'))).toBe(true);
    expect(await state(alice)).toBe('live');

    await send(alice, 'same me, new name');
    expect((await message(bob, 'same me, new name')).name).toBe('alicia');
    const members = await (await fetch(`${server.url}/rooms/${room}/members`)).json();
    expect(members.members).toEqual(['alicia', 'bob']);
  });

  it('gives the name to a new connection when the stream is not open yet (the PUT answers 404)', async () => {
    const carol = await open('carol', /status of 404/); // the browser logs the rename's 404
    try {
      // Hold carol's first stream request: her page is still connecting when she gives her name.
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      await carol.route(EVENTS, async (route) => {
        await gate;
        await route.continue().catch(() => {}); // the held first request may have been abandoned meanwhile
      });
      const puts: number[] = [];
      carol.on('response', (r) => r.request().method() === 'PUT' && puts.push(r.status()));
      await carol.goto(`${server.url}/rooms/${room}`);
      await waitFor(() => streams.get(carol)!.length === 1, "carol's first stream request");
      await carol.locator('#name-input').fill('carol');
      await carol.locator('#name-input').press('Enter');
      await waitFor(() => puts.length === 1, 'the rename answer');
      expect(puts).toEqual([404]);
      await waitFor(() => streams.get(carol)!.length === 2, 'a new stream request');
      expect(streams.get(carol)!.map(named)).toEqual([null, 'carol']);
      release();
      await live(carol, "carol's stream to be live");
      await bob.locator('#members .person', { hasText: 'carol' }).waitFor();
      await bob.locator('#messages .notice', { hasText: 'carol joined' }).waitFor();
    } finally {
      await carol.context().close();
    }
  });

  it('reconnects a dropped stream under the new name', async () => {
    const requested = streams.get(alice)!.length;
    const seen = await notices(bob);
    const drop = await fetch(`${server.url}/debug/rooms/${room}/drop`, { method: 'POST' });
    expect(drop.status).toBe(200);
    await waitFor(() => streams.get(alice)!.length > requested, "alice's reconnect");
    expect(streams.get(alice)!.slice(requested).map(named)).toEqual(['alicia']);
    await live(alice, 'alice live again');
    await live(bob, 'bob live again');
    await waitFor(async () => {
      const members = await (await fetch(`${server.url}/rooms/${room}/members`)).json();
      return members.count === 2 && JSON.stringify(members.members) === '["alicia","bob"]';
    }, 'the room to list alicia and bob again');
    await send(bob, 'back?');
    await message(alice, 'back?');
    expect((await notices(bob)).slice(seen.length).filter((n) => /alice/.test(n))).toEqual([]);
  });

  it('logged no page errors, console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});
