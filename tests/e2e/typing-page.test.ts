/**
 * "alice is typing…" on the room page in real Chromium: shown to the others while she types, never to herself,
 * gone once her message arrives or after a few seconds of silence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { openStream, post, startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

describe('typing on the page', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const typingLine = (page: Page) => page.locator('#typing');
  const shownText = async (page: Page) => ((await typingLine(page).isVisible()) ? await typingLine(page).textContent() : null);

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', problems);
    bob = await openPage(browser, 'bob', problems);
    await enterRoom(alice, `${server.url}/rooms/typing`, 'alice');
    await enterRoom(bob, `${server.url}/rooms/typing`, 'bob');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows "alice is typing…" to bob while she types, not to alice, and hides it when her message arrives', async () => {
    await alice.locator('#text').pressSequentially('hello b', { delay: 20 });
    await waitFor(async () => (await shownText(bob)) === 'alice is typing…', 'bob to see alice typing');
    expect(await shownText(alice)).toBeNull();
    await alice.locator('#text').pressSequentially('ob', { delay: 20 });
    await alice.locator('#text').press('Enter');
    await bob.locator('#messages .msg', { hasText: 'hello bob' }).waitFor();
    // Well before the notice would time out (6 s): the message ended it.
    await waitFor(async () => (await shownText(bob)) === null, 'the notice to go with the message', 2500);
    expect(await shownText(alice)).toBeNull();
  });

  it('forgets a typist after a few seconds of silence', async () => {
    await bob.locator('#text').pressSequentially('thinking', { delay: 20 });
    await waitFor(async () => (await shownText(alice)) === 'bob is typing…', 'alice to see bob typing');
    const shownAt = Date.now();
    await waitFor(async () => (await shownText(alice)) === null, 'the notice to go after silence', 15_000);
    expect(Date.now() - shownAt).toBeGreaterThan(3000); // it stayed a few seconds: not cleared by anything else
    expect(problems).toEqual([]);
  });

  it('never shows a notice that arrives after the typist\'s message (a quick "ok" and Enter, a paste)', async () => {
    // A reader of the room's json stream sees the same events, in the same order, as bob's page.
    const watcher = await openStream(`${server.url}/rooms/typing/events?history=0`);
    try {
      // Bob's page records every moment its typing line is shown.
      await bob.evaluate(() => {
        const line = document.getElementById('typing')!;
        const seen: string[] = ((window as unknown as { shownTyping: string[] }).shownTyping = []);
        new MutationObserver(() => !line.hidden && seen.push(line.textContent ?? '')).observe(line, { attributes: true, childList: true, characterData: true, subtree: true });
      });
      for (const [i, text] of ['ok', 'a pasted paragraph, sent at once'].entries()) {
        await alice.locator('#text').fill(text); // one input event, as a paste makes
        await alice.locator('#text').press('Enter');
        await bob.locator('#messages .msg', { hasText: text }).waitFor();
        // The server sends a room's typing notices in waves about 250 ms apart: the notice of this quick send
        // reaches the room after the message itself.
        const notice = await watcher.next((e) => e.event === 'typing' && watcher.events.filter((f) => f.event === 'typing').indexOf(e) === i, `alice's notice ${i + 1}`);
        const message = watcher.events.findIndex((e) => !e.event && JSON.parse(e.data).text === text);
        expect(message).toBeGreaterThanOrEqual(0);
        expect(watcher.events.indexOf(notice)).toBeGreaterThan(message);
        // Then a later message: once bob's page shows it, it has handled the notice before it.
        await post(server.url, 'typing', { name: 'carol', text: `marker ${i}` });
        await bob.locator('#messages .msg', { hasText: `marker ${i}` }).waitFor();
        expect(await shownText(bob)).toBeNull();
      }
      expect(await bob.evaluate(() => (window as unknown as { shownTyping: string[] }).shownTyping)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      watcher.close();
    }
  });

  it('sends no more notices than the server takes when messages go one after another', async () => {
    const refused: string[] = [];
    alice.on('response', (r) => r.url().endsWith('/typing') && r.status() !== 204 && refused.push(`${r.status()}`));
    for (let i = 0; i < 6; i++) {
      await alice.locator('#text').fill(`quick ${i}`);
      await alice.locator('#text').press('Enter');
      await alice.locator('#messages .msg', { hasText: `quick ${i}` }).waitFor();
    }
    await post(server.url, 'typing', { name: 'carol', text: 'after the quick ones' });
    await alice.locator('#messages .msg', { hasText: 'after the quick ones' }).waitFor();
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
  });
});
