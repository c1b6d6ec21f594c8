/** Headless Chromium for the page tests: how it is launched, a page that records its problems, entering a room. */
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { waitFor } from '../helpers.ts';

export const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
};

export const launchBrowser = (): Promise<Browser> => chromium.launch(LAUNCH);

/**
 * A new page in its own context (its own storage). Console errors and warnings, page errors and dialogs go into
 * `problems` (a test expects it empty), except console output matching `expected`.
 */
export async function openPage(browser: Browser, label: string, problems: string[], options: BrowserContextOptions = {}, expected?: RegExp): Promise<Page> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (expected?.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${label} console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${label} page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`${label} dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

/** Opens a room page, answers the one-time name question, and waits until its stream is live and lists this person. */
/** Opens a room signed in (accounts, jwt): the page asks no name, shows the identity's, and its stream goes live. */
export async function enterRoomSignedIn(page: Page, roomUrl: string, name: string): Promise<void> {
  await page.goto(roomUrl);
  await page.locator('#members .person.you', { hasText: name }).waitFor();
  if (await page.locator('#name-form').isVisible()) throw new Error('a signed-in page asked for a name');
  await page.locator('#sign-out').waitFor();
  await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', `${name}'s stream to be live`);
}

export async function enterRoom(page: Page, roomUrl: string, name: string): Promise<void> {
  await page.goto(roomUrl);
  await page.locator('#name-input').fill(name);
  await page.locator('#name-input').press('Enter');
  await page.locator('#members .person.you', { hasText: name }).waitFor();
  await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', `${name}'s stream to be live`);
}
