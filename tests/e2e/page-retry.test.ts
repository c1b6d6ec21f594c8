/**
 * The room page in real Chromium when a send's answer is lost on the way back: the server stored the message, the
 * page saw a network error and kept the text; sent again, it goes with the same Idempotency-Key, and the room
 * shows the message once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

describe('sending again from the page', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
    // The lost answer shows as a failed request in the console: expected here.
    alice = await openPage(browser, 'alice', problems, {}, /Failed to load resource|ERR_FAILED|Failed to fetch/);
    bob = await openPage(browser, 'bob', problems);
    await enterRoom(alice, `${server.url}/rooms/retry`, 'alice');
    await enterRoom(bob, `${server.url}/rooms/retry`, 'bob');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('sends a message whose answer was lost again with the same key, and it shows once everywhere', async () => {
    const keys: string[] = [];
    let lose = true;
    await alice.route('**/rooms/retry/messages', async (route) => {
      keys.push((await route.request().headerValue('idempotency-key')) ?? '');
      if (!lose) return route.continue();
      lose = false;
      await route.fetch(); // it reaches the server and is stored...
      await route.abort('failed'); // ...and the answer never reaches the page
    });
    await alice.locator('#text').fill('the answer got lost');
    await alice.locator('#text').press('Enter');
    await alice.locator('#form-error', { hasText: 'cannot be reached' }).waitFor();
    expect(await alice.locator('#text').inputValue()).toBe('the answer got lost');
    await bob.locator('#messages .msg', { hasText: 'the answer got lost' }).waitFor(); // it was stored
    await alice.locator('#text').press('Enter');
    await alice.locator('#messages .msg', { hasText: 'the answer got lost' }).waitFor();
    await waitFor(async () => (await alice.locator('#form-error').isHidden()) && (await alice.locator('#text').inputValue()) === '', 'the send to be done');
    expect(keys.length).toBe(2);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]!);
    for (const page of [alice, bob]) expect(await page.locator('#messages .msg', { hasText: 'the answer got lost' }).count()).toBe(1);
    const history = (await (await fetch(`${server.url}/rooms/retry/messages`)).json()) as { messages: { text: string }[] };
    expect(history.messages.map((m) => m.text)).toEqual(['the answer got lost']);

    // A new message is a new key.
    await alice.locator('#text').fill('a second one');
    await alice.locator('#text').press('Enter');
    await bob.locator('#messages .msg', { hasText: 'a second one' }).waitFor();
    expect(keys.length).toBe(3);
    expect(keys[2]).not.toBe(keys[0]!);
    expect(problems).toEqual([]);
  });
});
