/**
 * Replies (`reply_to`) against a real server: the quote kept with the reply (its sender and first words), in every
 * format and in history, a reply to a message that is not in the room refused, and the page's reply button, quote
 * and link to the original in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser } from 'playwright-core';
import { openStream, post, startServer, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

describe('replies', () => {
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

  it('keeps what a reply answers, and shows it in json, text and ndjson, live and in history', async () => {
    const text = await openStream(`${server.url}/rooms/re/events?history=0&format=text`);
    const original = await post(server.url, 're', { name: 'ann', text: 'Shall we meet at the station at noon, or a little later in the afternoon?' });
    const reply = await post(server.url, 're', { name: 'bob', text: 'noon is fine', reply_to: original.id });
    expect(reply).toMatchObject({ reply_to: { id: original.id, name: 'ann', text: original.text } });
    const line = await text.next((e) => e.id === reply.id, 'the reply on the text stream');
    expect(line.data).toMatch(/^ {4}↳ ann: Shall we meet at the station at noon, or a little later in…\n\[\d\d:\d\d:\d\d\] bob: noon is fine$/);
    text.close();
    const history = (await (await fetch(`${server.url}/rooms/re/messages`)).json()) as { messages: { id: string; reply_to?: { id: string } }[] };
    expect(history.messages.find((m) => m.id === reply.id)?.reply_to?.id).toBe(original.id);
    const nd = await (await fetch(`${server.url}/rooms/re/messages?format=ndjson`)).text();
    expect(JSON.parse(nd.trim().split('\n').at(-1)!).reply_to).toEqual({ id: original.id, name: 'ann', text: original.text });
    const raw = await (await fetch(`${server.url}/rooms/re/messages?format=raw`)).text();
    expect(raw).toContain('    ↳ ann: Shall we meet');
  });

  it('refuses a reply to a message that is not in the room', async () => {
    const elsewhere = await post(server.url, 'other', { name: 'ann', text: 'in another room' });
    for (const replyTo of [elsewhere.id, '123', 'x']) {
      const res = await fetch(`${server.url}/rooms/re/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bob', text: 'hm', reply_to: replyTo }) });
      expect(res.status).toBe(422);
      expect((await res.json()).error).toContain('reply_to');
    }
  });

  it('lets the page answer a message with its reply button, and shows the quote linking to it', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'bob', problems);
    const original = await post(server.url, 're-page', { name: 'ann', text: 'who brings the cake?' });
    await enterRoom(page, `${server.url}/rooms/re-page`, 'bob');
    await page.locator(`#m-${original.id} .reply-button`).click();
    await page.locator('.replying', { hasText: 'Replying to ann: who brings the cake?' }).waitFor();
    await page.locator('#text').fill('I do');
    await page.locator('#text').press('Enter');
    const quote = page.locator('#messages .msg', { hasText: 'I do' }).locator('.quote');
    await quote.waitFor();
    expect(await quote.getAttribute('href')).toBe(`#m-${original.id}`);
    expect(await quote.textContent()).toContain('who brings the cake?');
    await page.locator('.replying').waitFor({ state: 'hidden' }); // the next message answers nothing
    const history = (await (await fetch(`${server.url}/rooms/re-page/messages`)).json()) as { messages: { text: string; reply_to?: { id: string } }[] };
    expect(history.messages.find((m) => m.text === 'I do')?.reply_to?.id).toBe(original.id);
    await page.locator('#text').fill('and the plates');
    await page.locator('#text').press('Enter');
    await page.locator('#messages .msg', { hasText: 'and the plates' }).waitFor();
    const again = (await (await fetch(`${server.url}/rooms/re-page/messages`)).json()) as { messages: { text: string; reply_to?: unknown }[] };
    expect(again.messages.find((m) => m.text === 'and the plates')?.reply_to).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
