/**
 * Writing on the room page, in real Chromium against a real server: a rename reads as a rename and keeps the
 * message box (and what is in it); without JavaScript the name stays in its field from one post to the next; a
 * paste longer than a message can be is said so, and what does not fit stays in the box for the next message; a
 * send of spaces alone says why nothing was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

const LIMIT = 4000; // LIMITS.text in lib/input.ts

describe('the composer', () => {
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;

  const texts = (page: Page) => page.locator('#messages .msg .text').allTextContents();
  const history = async (room: string) =>
    ((await (await fetch(`${server.url}/rooms/${room}/messages`)).json()) as { messages: { name: string; text: string }[] }).messages;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('renaming reads as a rename, and the message box stays, with its draft', async () => {
    const page = await openPage(browser, 'rename', problems);
    await enterRoom(page, `${server.url}/rooms/composer`, 'alice');
    await page.locator('#text').fill('half a thought');
    await page.locator('#me').click();
    await page.locator('#name-form').waitFor();
    const label = (await page.locator('label[for=name-input]').textContent()) ?? '';
    expect(label).not.toContain('What should people call you?');
    expect(label).toMatch(/rename|change your name|new name/i);
    expect(await page.locator('#name-form button[type=submit]').textContent()).toMatch(/rename|save/i);
    expect(await page.locator('#send').isVisible()).toBe(true);
    expect(await page.locator('#text').isVisible()).toBe(true);
    expect(await page.locator('#text').inputValue()).toBe('half a thought');
    expect(await page.locator('#name-input').inputValue()).toBe('alice');
    expect(await page.locator('#name-input').evaluate((e) => e === document.activeElement)).toBe(true);

    await page.locator('#name-input').fill('alicia');
    await page.locator('#name-input').press('Enter');
    await page.locator('#members .person.you', { hasText: 'alicia' }).waitFor();
    expect(await page.locator('#name-form').isHidden()).toBe(true);
    expect(await page.locator('#me').textContent()).toContain('alicia');
    expect(await page.locator('#text').inputValue()).toBe('half a thought');
    expect(await page.locator('#text').evaluate((e) => e === document.activeElement)).toBe(true);

    // Escape, or Cancel, leaves the name as it was.
    await page.locator('#me').click();
    await page.locator('#name-input').fill('someone else');
    await page.locator('#name-input').press('Escape');
    expect(await page.locator('#name-form').isHidden()).toBe(true);
    expect(await page.locator('#me').textContent()).toContain('alicia');
    await page.locator('#me').click();
    await page.locator('#name-form button', { hasText: /cancel/i }).click();
    expect(await page.locator('#name-form').isHidden()).toBe(true);

    // The first visit still asks as a first visit.
    const fresh = await openPage(browser, 'fresh', problems);
    await fresh.goto(`${server.url}/rooms/composer`);
    await fresh.locator('#name-form').waitFor();
    expect(await fresh.locator('label[for=name-input]').textContent()).toBe('What should people call you?');
    expect(await fresh.locator('#send').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.context().close();
    await fresh.context().close();
  });

  it('without JavaScript, the name stays in its field after each post', async () => {
    const page = await openPage(browser, 'no js', problems, { javaScriptEnabled: false });
    await page.goto(`${server.url}/rooms/nojs`);
    const name = page.locator('#send input[name=name]');
    await name.fill('nora');
    for (const text of ['first, with no script', 'second, same name']) {
      await page.locator('#text').fill(text);
      await page.locator('#send button[type=submit]').click();
      await page.locator('#messages .msg .text', { hasText: text }).waitFor();
      expect(await name.inputValue()).toBe('nora');
    }
    expect((await history('nojs')).map((m) => m.name)).toEqual(['nora', 'nora']);
    // A name with characters a URL escapes comes back whole.
    await name.fill('Zoë & co?');
    await page.locator('#text').fill('third');
    await page.locator('#send button[type=submit]').click();
    await page.locator('#messages .msg .text', { hasText: 'third' }).waitFor();
    expect(await name.inputValue()).toBe('Zoë & co?');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it(`a paste over ${LIMIT} characters is said so, and what does not fit stays in the box for the next message`, async () => {
    const page = await openPage(browser, 'paste', problems, { permissions: ['clipboard-read', 'clipboard-write'] });
    await enterRoom(page, `${server.url}/rooms/paste`, 'pat');
    const words = Array.from({ length: 1200 }, (_, i) => `word${i}`);
    const pasted = words.join(' '); // about 9,500 characters: three messages
    expect(pasted.length).toBeGreaterThan(2 * LIMIT + 1000);
    await page.evaluate((text) => navigator.clipboard.writeText(text), pasted);
    await page.locator('#text').focus();
    await page.keyboard.press('ControlOrMeta+V');
    // Nothing is cut: it is all in the box, and the page says it is too long for one message.
    await waitFor(async () => (await page.locator('#text').inputValue()).length > 0, 'the paste in the box');
    expect(await page.locator('#text').inputValue()).toBe(pasted);
    const note = page.locator('#length-note');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/4,000/);

    await page.locator('#text').press('Enter');
    await waitFor(async () => (await texts(page)).length === 1, 'the first part posted');
    const rest = await page.locator('#text').inputValue();
    const [first] = await texts(page);
    expect(first!.length).toBeLessThanOrEqual(LIMIT);
    expect(first!.length).toBeGreaterThan(LIMIT - 200);
    expect(`${first} ${rest}`).toBe(pasted); // cut between two words, nothing lost
    expect(await note.textContent()).toMatch(/rest|left/i);
    expect(rest.length).toBeGreaterThan(LIMIT); // still too long: the next send takes another part
    await page.locator('#text').press('Enter');
    await waitFor(async () => (await texts(page)).length === 2, 'the second part posted');
    await page.locator('#text').press('Enter');
    await waitFor(async () => (await texts(page)).length === 3, 'the last part posted');
    expect(await page.locator('#text').inputValue()).toBe('');
    expect(await note.isHidden()).toBe(true);
    expect((await history('paste')).map((m) => m.text).join(' ')).toBe(pasted);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a send of spaces alone says why nothing was sent', async () => {
    const page = await openPage(browser, 'spaces', problems);
    await enterRoom(page, `${server.url}/rooms/spaces`, 'sam');
    const error = page.locator('#form-error');
    await page.locator('#text').fill('    ');
    await page.locator('#text').press('Enter');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/nothing to send|only spaces|write something/i);
    await page.locator('#text').fill('  \n  ');
    await page.locator('#send button[type=submit]').click();
    expect(await error.isVisible()).toBe(true);
    expect(await history('spaces')).toEqual([]);
    // Writing something clears the complaint, and the message goes.
    await page.locator('#text').fill('now with words');
    await waitFor(async () => await error.isHidden(), 'the complaint to go');
    await page.locator('#text').press('Enter');
    await waitFor(async () => (await history('spaces')).length === 1, 'the message posted');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
