/**
 * attention.js in a real headless Chromium against a real server: the unread count in the title while the tab is
 * really in the background, @mentions marked, and desktop notifications for mentions (opt-in, asked on a click).
 *
 * Playwright's own pages all act as focused, visible tabs (its focus emulation keeps them so), so this file
 * starts Chromium itself and attaches with `noDefaults`: then another tab brought to the front really hides ours
 * (document.visibilityState turns "hidden"), as it does for a reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { post, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Chromium with a DevTools socket of its own, attached to with no focus emulation. */
async function launchChromium(profile: string) {
  const proc = Bun.spawn(
    ['/usr/bin/chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
    { stdout: 'ignore', stderr: 'pipe' },
  );
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let said = '';
  let endpoint: string | undefined;
  while (!endpoint) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before its DevTools socket opened:\n${said}`);
    said += decoder.decode(value, { stream: true });
    endpoint = said.match(/DevTools listening on (ws:\S+)/)?.[1];
  }
  void (async () => { while (!(await reader.read()).done); })(); // keep its stderr drained
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
  return { browser, context: browser.contexts()[0]!, proc };
}

describe('what asks for your attention on the page', () => {
  const room = 'attn';
  const title = `#${room} · threadchat`;
  const profile = tempDir('threadchat-chromium-');
  const problems: string[] = [];
  let server: ServerProcess;
  let chrome: { browser: Browser; context: BrowserContext; proc: ReturnType<typeof Bun.spawn> };
  let alice: Page;
  /** Another tab in the same window: bringing it to the front puts alice's tab in the background. */
  let other: Page;

  const visibility = (page: Page) => page.evaluate(() => document.visibilityState);
  const toBackground = async () => {
    await other.bringToFront();
    await waitFor(async () => (await visibility(alice)) === 'hidden', "alice's tab to be hidden");
  };
  const toFront = async () => {
    await alice.bringToFront();
    await waitFor(async () => (await visibility(alice)) === 'visible', "alice's tab to be visible");
  };
  const fromBob = (text: string) => post(server.url, room, { name: 'bob', text });
  /** Waits for a message; returns how the page shows it. */
  const shown = (text: string) =>
    waitFor(
      () => alice.$$eval('#messages .msg', (items, t) => {
        const li = items.find((item) => item.querySelector('.text')?.textContent === t);
        return li && {
          id: li.getAttribute('data-id')!,
          mention: li.classList.contains('mention'),
          marks: [...li.querySelectorAll('.text mark.mention')].map((m) => m.textContent),
          notified: li.getAttribute('data-notified'),
        };
      }, text),
      `"${text}" on alice's page`,
    );
  const send = async (text: string) => {
    await alice.locator('#text').fill(text);
    await alice.locator('#text').press('Enter');
  };

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    chrome = await launchChromium(profile.path);
    alice = chrome.context.pages()[0] ?? (await chrome.context.newPage());
    alice.setDefaultTimeout(10_000);
    alice.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    alice.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(`console ${m.type()}: ${m.text()}`));
    await chrome.context.grantPermissions(['notifications'], { origin: server.url });
    await fromBob('history: @alice, before you came'); // history, not news: neither counted nor notified
    await alice.goto(`${server.url}/rooms/${room}`);
    await alice.locator('#name-input').fill('alice');
    await alice.locator('#name-input').press('Enter');
    await waitFor(async () => (await alice.locator('#status').getAttribute('data-state')) === 'live', "alice's stream to be live");
    other = await chrome.context.newPage();
    await toFront();
  });

  afterAll(async () => {
    await chrome?.browser.close().catch(() => {});
    chrome?.proc.kill();
    await chrome?.proc.exited;
    await server?.stop();
    profile.remove();
  });

  it('counts live messages from others in the title while the tab is in the background, and clears it on return', async () => {
    await fromBob('seen at once');
    await shown('seen at once');
    expect(await alice.title()).toBe(title); // in front: nothing to count

    await toBackground();
    await fromBob('one while away');
    await send('my own, while away'); // your own: not counted
    await fromBob('two while away');
    await fromBob('three while away');
    await shown('my own, while away');
    await shown('three while away');
    await waitFor(async () => (await alice.title()) === `(3) ${title}`, 'three unread in the title');

    await toFront();
    await waitFor(async () => (await alice.title()) === title, 'the title without a count');
    await fromBob('back in front');
    await shown('back in front');
    expect(await alice.title()).toBe(title);

    // A page loaded in the background shows its history without counting it.
    await toBackground();
    await alice.reload();
    await shown('three while away');
    expect(await visibility(alice)).toBe('hidden');
    expect(await alice.title()).toBe(title);
    await fromBob('after the reload');
    await waitFor(async () => (await alice.title()) === `(1) ${title}`, 'one unread after the reload');
    await toFront();
    await waitFor(async () => (await alice.title()) === title, 'the title without a count');
  });

  it('marks @mentions of your name, any case, as whole words only, and nothing else', async () => {
    await alice.reload(); // the name is known as the page loads: its history is marked too
    expect(await shown('history: @alice, before you came')).toMatchObject({ mention: true, marks: ['@alice'] });
    await fromBob('@alice can you look at the deploy?');
    await fromBob('thanks @ALICE.');
    await fromBob('<b>@Alice</b> is not markup');
    await fromBob('write to bob@alice.com or x@alice or @alicex or @alice-bob or @aliced');
    await fromBob('@bob not you');
    expect(await shown('@alice can you look at the deploy?')).toMatchObject({ mention: true, marks: ['@alice'] });
    expect(await shown('thanks @ALICE.')).toMatchObject({ mention: true, marks: ['@ALICE'] });
    expect(await shown('<b>@Alice</b> is not markup')).toMatchObject({ mention: true, marks: ['@Alice'] });
    expect(await alice.locator('#messages .text b').count()).toBe(0);
    expect(await shown('write to bob@alice.com or x@alice or @alicex or @alice-bob or @aliced')).toMatchObject({ mention: false, marks: [] });
    expect(await shown('@bob not you')).toMatchObject({ mention: false, marks: [] });
    await send('note to self @alice');
    expect(await shown('note to self @alice')).toMatchObject({ mention: false, marks: [] }); // you wrote it
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.screenshot({ path: join(ARTIFACTS, 'page-mentions.png'), animations: 'disabled' });
  });

  it('raises a notification for a mention in the background once asked to, and none for the rest', async () => {
    const button = alice.locator('#notify');
    await expect(button.textContent()).resolves.toBe('Notify me of mentions');
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    // Not asked for yet: a mention in the background raises nothing.
    await toBackground();
    await fromBob('@alice before the opt-in');
    expect((await shown('@alice before the opt-in')).notified).toBeNull();
    await toFront();

    await button.click();
    await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'true', 'the button to say notifications are on');
    expect(await button.textContent()).toBe('Notifying you of mentions');

    await fromBob('@alice in front: the page is right there');
    await shown('@alice in front: the page is right there');
    await toBackground();
    await fromBob('not a mention, in the background');
    await send('@alice, my own, in the background');
    await fromBob('@alice the build is red');
    const mention = await waitFor(async () => {
      const m = await shown('@alice the build is red');
      return m.notified ? m : null;
    }, "the notification's show event");
    expect(mention.notified).toBe('shown');
    // Created before the mention's, so a notification for any of these would have shown first.
    for (const text of ['@alice in front: the page is right there', 'not a mention, in the background', '@alice, my own, in the background']) {
      expect((await shown(text)).notified).toBeNull();
    }
    expect(await alice.locator('html').getAttribute('data-notified')).toBe('1');

    // Clicked again, it stops; the choice is remembered across a reload.
    await toFront();
    await button.click();
    await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'false', 'notifications off');
    await toBackground();
    await fromBob('@alice while they are off');
    await shown('@alice while they are off');
    await toFront();
    await button.click();
    await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'true', 'notifications on again');
    await alice.reload();
    await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'true', 'notifications still on after a reload');
    await toBackground();
    await fromBob('@alice after the reload');
    await waitFor(async () => (await shown('@alice after the reload')).notified, 'a notification after the reload');
    expect((await shown('@alice while they are off')).notified).toBeNull();
    await toFront();
  });

  it('hides the button once notifications are blocked', async () => {
    const page = await chrome.browser.newContext().then((context) => context.newPage()); // its own permissions
    try {
      await page.goto(`${server.url}/rooms/${room}`);
      const button = page.locator('#notify');
      await button.waitFor();
      await button.click(); // headless Chromium has nobody to ask: the request is denied
      await button.waitFor({ state: 'hidden' });
      expect(await page.evaluate(() => Notification.permission)).toBe('denied');
      await page.reload();
      expect(await button.isHidden()).toBe(true);
    } finally {
      await page.context().close();
    }
  });

  it('offers no button in a browser without notifications', async () => {
    const context = await chrome.browser.newContext();
    try {
      await context.addInitScript(() => delete (window as { Notification?: unknown }).Notification);
      const page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`no-notifications page error: ${error.message}`));
      await page.goto(`${server.url}/rooms/${room}`);
      await page.locator('#messages .msg').first().waitFor();
      expect(await page.evaluate(() => 'Notification' in window)).toBe(false);
      expect(await page.locator('#notify').isHidden()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('logged no page errors', () => {
    expect(problems).toEqual([]);
  });
});
