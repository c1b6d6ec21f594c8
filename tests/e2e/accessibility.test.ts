/**
 * Accessibility, checked by axe-core itself in real Chromium: the room page (asking a name, then chatting, and
 * renaming), /login and /status, each in the light and the dark theme, at a desktop's and a phone's width, with no
 * serious or critical violation. axe's script is injected by the test (the context alone bypasses the CSP; the
 * pages keep theirs). Then the keyboard alone, on the room page: the composer, the room switcher, the name button
 * and Sign out are reached with Tab and used with the keys, and the messages scroll (back to older ones too, and
 * down again with "New messages").
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { post, ROOT, startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { launchBrowser, openPage } from './browser-helpers.ts';

const TOKEN = 'a token long enough here';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe on the page as it is; the serious and critical violations, each with where and why. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Finite animations (a message arriving) end first: axe reads colours as they are painted.
  await waitFor(() => page.evaluate(() => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== 'running')), 'animations to end');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`));
}

describe('accessibility, checked with axe-core in Chromium', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  /** A signed-in browser's cookies, for each new context. */
  let signedIn: BrowserContextOptions['storageState'];

  const open = (label: string, options: BrowserContextOptions, expected?: RegExp) =>
    openPage(browser, label, problems, { bypassCSP: true, storageState: signedIn, ...options }, expected);
  const live = (page: Page) => waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the page to be live');

  beforeAll(async () => {
    // A short history, so the keyboard test has older messages to scroll back to.
    server = await startServer(['--store', 'memory', '--auth', 'token', '--token', TOKEN, '--history', '20', '--post-rate', '0']);
    browser = await launchBrowser();
    const page = await openPage(browser, 'sign in', problems);
    await page.goto(`${server.url}/login`);
    await page.locator('#login-token').fill(TOKEN);
    await page.locator('#login-token').press('Enter');
    await page.waitForURL((url) => url.pathname !== '/login');
    signedIn = await page.context().storageState();
    await page.context().close();
    await post(server.url, 'a11y', { name: 'bob', text: 'Morning! The notes are at https://example.com/notes' }, AUTH);
    await post(server.url, 'a11y', { name: 'carol', text: '@ally can you look at the deploy?' }, AUTH);
    for (let i = 1; i <= 40; i++) await post(server.url, 'keys', { name: 'lee', text: `earlier message ${i}` }, AUTH);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    for (const [width, viewport] of Object.entries(WIDTHS)) {
      const where = `${colorScheme}, ${width}`;

      it(`/login (${where})`, async () => {
        // The wrong try below is answered 401, which the browser logs.
        const page = await open(`login ${where}`, { colorScheme, viewport, storageState: undefined }, /status of 401/);
        await page.goto(`${server.url}/login`);
        expect(await seriousViolations(page)).toEqual([]);
        // A wrong token: the page says so.
        await page.locator('#login-token').fill('not the token at all');
        await page.locator('#login-token').press('Enter');
        await page.locator('.login-error').waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await page.context().close();
      });

      it(`the room page (${where}): asking a name, chatting, renaming`, async () => {
        const page = await open(`room ${where}`, { colorScheme, viewport });
        await page.goto(`${server.url}/rooms/a11y`);
        await page.locator('#name-form').waitFor();
        await live(page);
        expect(await seriousViolations(page)).toEqual([]);
        await page.locator('#name-input').fill('ally');
        await page.locator('#name-input').press('Enter');
        await page.locator('#members .person.you').waitFor();
        await page.locator('#text').fill('My own message, with a link: https://example.com/mine');
        await page.locator('#text').press('Enter');
        await page.locator('#messages .msg.mine').waitFor();
        await page.locator('#text').fill('x'.repeat(4100)); // the note under the box
        await page.locator('#length-note').waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await page.locator('#me').click();
        await page.locator('#name-form').waitFor();
        expect(await seriousViolations(page)).toEqual([]);
        await page.context().close();
      });

      it(`/status (${where})`, async () => {
        const page = await open(`status ${where}`, { colorScheme, viewport });
        await page.goto(`${server.url}/status`);
        await page.locator('.status-view').waitFor({ timeout: 20_000 }); // the first snapshot, on a busy machine too
        // Held still for axe: the view as last swapped in, out of the stream's reach (a detached stream stops).
        await page.evaluate(() => {
          const live = document.getElementById('status-live')!;
          const still = live.cloneNode(true) as HTMLElement;
          still.removeAttribute('hx-sse:connect');
          live.replaceWith(still);
        });
        expect(await seriousViolations(page)).toEqual([]);
        await page.context().close();
      });
    }
  }

  it('the room page with the keyboard alone: the composer, the name button, the room switcher, and Sign out', async () => {
    const page = await openPage(browser, 'keyboard', problems, { storageState: signedIn, viewport: WIDTHS.desktop });
    const texts = () => page.locator('#messages .msg .text').allTextContents();
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return e ? `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}` : '';
    });
    /** Presses Tab (Shift+Tab backwards) until `selector` has the focus: what the keyboard reached on the way. */
    const tabTo = async (selector: string, backwards = false) => {
      const path: string[] = [];
      for (let i = 0; i < 40; i++) {
        if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return path;
        await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
        path.push(await focused());
      }
      throw new Error(`Tab never reached ${selector}; it went through ${path.join(', ')}`);
    };

    await page.goto(`${server.url}/rooms/keys`);
    await page.locator('#name-form').waitFor();
    // The name asked: the focus is there on a desktop; typed and sent with Enter.
    await tabTo('#name-input');
    await page.keyboard.type('kay');
    await page.keyboard.press('Enter');
    await page.locator('#members .person.you', { hasText: 'kay' }).waitFor();
    await live(page);

    // The composer: typed, and sent with Enter.
    await tabTo('#text');
    await page.keyboard.type('typed with the keyboard alone');
    await page.keyboard.press('Enter');
    await page.locator('#messages .msg.mine', { hasText: 'typed with the keyboard alone' }).waitFor();

    // The name button: Enter opens the rename, Enter takes the new name, and the focus is back in the box.
    await tabTo('#me', true);
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('input#name-input');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('kai');
    await page.keyboard.press('Enter');
    await page.locator('#members .person.you', { hasText: 'kai' }).waitFor();
    expect(await focused()).toBe('textarea#text');
    // Escape leaves a rename as it was.
    await tabTo('#me', true);
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    expect(await page.locator('#name-form').isHidden()).toBe(true);

    // The messages: Tab reaches the list, Home scrolls to the top (and so loads the older ones), and a message
    // that arrives meanwhile offers "New messages", which Tab reaches and Enter follows.
    await tabTo('#messages', true);
    await page.keyboard.press('Home');
    await page.locator('#messages .msg', { hasText: 'earlier message 1' }).first().waitFor();
    await waitFor(async () => (await texts()).includes('earlier message 1'), 'the older messages');
    await page.keyboard.press('Home');
    await post(server.url, 'keys', { name: 'lee', text: 'arrived while reading back' }, AUTH);
    await page.locator('#jump').waitFor();
    await tabTo('#jump');
    await page.keyboard.press('Enter');
    await waitFor(() => page.locator('#messages').evaluate((l) => l.scrollHeight - l.scrollTop - l.clientHeight < 80), 'the list at its end');
    await page.locator('#jump').waitFor({ state: 'hidden' });

    // Replying: from the list, Up reaches the newest message's reply button, Enter answers it, Escape drops it.
    await tabTo('#messages', true);
    await page.keyboard.press('ArrowUp');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Reply to lee');
    await page.keyboard.press('Enter');
    await page.locator('.replying', { hasText: 'Replying to lee' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('text');
    await page.keyboard.press('Escape');
    await page.locator('.replying').waitFor({ state: 'hidden' });

    // The notify button is on the way too.
    expect(await tabTo('#sign-out', true)).toContain('button#notify');

    // The room switcher: typed, Enter goes there.
    await tabTo('#room-input', true);
    await page.keyboard.type('Keys Elsewhere');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.url}/rooms/keys-elsewhere`);
    await page.locator('#send').waitFor(); // the name is remembered

    // Sign out: reached with Tab, pressed with Enter.
    await page.locator('body').focus();
    await tabTo('#sign-out');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/login/);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
