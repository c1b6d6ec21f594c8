/**
 * Search (`GET /rooms/:room/messages?q=words`) against real servers: the messages of a room that hold every word,
 * newest first, in every history format, the 400s of a query that is not one, FTS5 syntax read as words; and the
 * page's search box in Chromium, with JavaScript (htmx into a results panel) and without (a plain form), each result
 * opening the room at that message, highlighted, with what was said before and after it, even when the message is
 * older than the history the page shows by default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { post, ROOT, startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from '../store/redis-helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

interface Shown { id: string; room: string; name: string; text: string; ts: number; client?: string; author?: string }
const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const key = () => randomBytes(16).toString('hex');
const search = (base: string, room: string, query: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${base}/rooms/${encodeURIComponent(room)}/messages?${new URLSearchParams(query)}`, { headers });
const found = async (base: string, room: string, q: string) => {
  const res = await search(base, room, { q });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Shown[] }).messages.map((m) => m.text);
};

/** The serious and critical axe-core violations of the page as it is (axe injected: the context bypasses the CSP). */
async function seriousViolations(page: Page): Promise<string[]> {
  await waitFor(() => page.evaluate(() => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== 'running')), 'animations to end');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const redisPrefix = uniquePrefix('search-e2e');
const sqliteData = tempDir();
const stores: [string, string[]][] = [
  ['sqlite', ['--data', sqliteData.path]],
  ['redis', ['--store', storeUrl(SHARED_REDIS, DB.e2e, redisPrefix)]],
];
afterAll(async () => {
  sqliteData.remove();
  await deleteKeys(SHARED_REDIS, DB.e2e, redisPrefix);
});

for (const [kind, args] of stores) {
  describe(`search over HTTP (${kind})`, () => {
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServer(args);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('finds the messages holding every word, newest first, in json, text, raw, ndjson and html', async () => {
      const ann = key();
      const a = await post(server.url, 'zoo', { name: 'ann', text: 'Deploy the Quokka tonight', client: ann });
      await post(server.url, 'zoo-other', { name: 'ann', text: 'a quokka elsewhere' });
      const b = await post(server.url, 'zoo', { name: 'bob', text: 'quokka facts: they smile' });
      await post(server.url, 'zoo', { name: 'bob', text: 'deploy later' });

      const res = await search(server.url, 'zoo', { q: '  quokka  ' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { room: string; query: string; messages: Shown[] };
      expect(body.room).toBe('zoo');
      expect(body.query).toBe('quokka');
      expect(body.messages.map((m) => m.id)).toEqual([b.id, a.id]); // newest first
      expect(body.messages[1]).toMatchObject({ id: a.id, name: 'ann', text: 'Deploy the Quokka tonight', room: 'zoo' });
      expect(body.messages.some((m) => 'client' in m || 'author' in m)).toBe(false); // as history shows them
      expect(await found(server.url, 'zoo', 'QUOKKA deploy')).toEqual(['Deploy the Quokka tonight']);
      expect(await found(server.url, 'zoo', 'quok')).toHaveLength(2); // the start of a word
      expect(await found(server.url, 'zoo', 'giraffe')).toEqual([]);
      expect((await (await search(server.url, 'zoo', { q: 'quokka', limit: '1' })).json()).messages.map((m: Shown) => m.id)).toEqual([b.id]);

      const text = await (await search(server.url, 'zoo', { q: 'quokka', format: 'text' })).text();
      expect(text.trimEnd().split('\n')).toHaveLength(2);
      expect(text.indexOf('quokka facts')).toBeLessThan(text.indexOf('Deploy the Quokka'));
      expect(await (await search(server.url, 'zoo', { q: 'quokka', format: 'raw' })).text()).toBe(text);
      const ndjson = await search(server.url, 'zoo', { q: 'quokka', format: 'ndjson' });
      expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
      expect((await ndjson.text()).trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([b.id, a.id]);
      for (const html of [await search(server.url, 'zoo', { q: 'quokka', format: 'html' }), await search(server.url, 'zoo', { q: 'quokka' }, { 'HX-Request': 'true' })]) {
        expect(html.headers.get('content-type')).toContain('text/html');
        const markup = await html.text();
        expect(markup).toContain(`href="/rooms/zoo?at=${a.id}#m-${a.id}"`);
        expect(markup.indexOf(`at=${b.id}`)).toBeLessThan(markup.indexOf(`at=${a.id}`));
        expect(markup).toContain('Deploy the Quokka tonight');
        expect(markup).not.toContain(`id="m-${a.id}"`); // a result is a link to the message, not a second copy of it
      }
      expect(await (await search(server.url, 'zoo', { q: 'giraffe', format: 'html' })).text()).toContain('No message');

      // Deleted: no longer found.
      expect((await fetch(`${server.url}/rooms/zoo/messages/${a.id}`, { method: 'DELETE', headers: { 'X-Client-Id': ann } })).status).toBe(204);
      expect(await found(server.url, 'zoo', 'quokka')).toEqual(['quokka facts: they smile']);
    });

    it('reads FTS5 syntax as words, and answers 400 to a query that is no search', async () => {
      await post(server.url, 'syntax', { name: 'ann', text: 'near the "quick" fox, or not' });
      await post(server.url, 'syntax', { name: 'ann', text: 'quick thinking' });
      expect(await found(server.url, 'syntax', 'NEAR(quick fox)')).toEqual(['near the "quick" fox, or not']);
      expect(await found(server.url, 'syntax', '"quick" OR')).toEqual(['near the "quick" fox, or not']);
      expect(await found(server.url, 'syntax', 'quick*')).toHaveLength(2);
      for (const q of ['quick"', 'NEAR(', 'text:quick', '^quick', '-fox', '"a"b"', 'AND', '{text} : quick']) {
        expect((await search(server.url, 'syntax', { q })).status).toBe(200);
      }
      const refused = async (query: Record<string, string>, reason: RegExp) => {
        const res = await search(server.url, 'syntax', query);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: string }).error).toMatch(reason);
      };
      await refused({ q: '' }, /q /);
      await refused({ q: '   ' }, /q /);
      await refused({ q: '*** "" ()' }, /word/);
      await refused({ q: '"' }, /word/);
      await refused({ q: 'x'.repeat(201) }, /200/);
      await refused({ q: 'quick', after: '1' }, /q=/);
      await refused({ q: 'quick', before: '1' }, /q=/);
      await refused({ q: 'quick', since: '10m' }, /q=/);
      expect((await search(server.url, 'syntax', { q: 'x'.repeat(200) })).status).toBe(200);
    });
  });
}

describe('search on the page', () => {
  const data = tempDir();
  let server: ServerProcess;
  let browser: Browser;
  const room = 'haystack';
  let needle: Shown;
  let all: Shown[] = [];
  beforeAll(async () => {
    server = await startServer(['--data', data.path, '--post-rate', '0', '--post-rate-ip', '0']);
    browser = await launchBrowser();
    // 150 messages: the page shows the last 100 (--history), so the one searched for is not on it.
    for (let i = 0; i < 150; i++) {
      all.push(await post(server.url, room, { name: i % 2 ? 'ann' : 'bob', text: i === 3 ? 'the needle is here, number 3' : `hay ${i}` }));
    }
    needle = all[3]!;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data.remove();
  });

  /** On the page at `at`: the message there, highlighted and in view, with messages before and after it. */
  const expectOpenedAt = async (page: Page, at: Shown) => {
    await waitFor(() => page.url().endsWith(`/rooms/${room}?at=${at.id}#m-${at.id}`), 'the room page at the message');
    const item = page.locator(`#m-${at.id}`);
    await item.waitFor();
    expect(await item.getAttribute('class')).toContain('found');
    expect(await item.getAttribute('aria-current')).toBe('true');
    expect(await item.evaluate((el) => el.matches(':target'))).toBe(true);
    await waitFor(() => item.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const list = document.getElementById('messages')!.getBoundingClientRect();
      return box.top >= list.top && box.bottom <= list.bottom;
    }), 'the message to be in view');
    const ids = await page.locator('#messages .msg').evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.id));
    const at3 = ids.indexOf(at.id);
    expect(ids.slice(0, at3)).toEqual(all.slice(0, 3).map((m) => m.id)); // what was said before it, from the start
    expect(ids.slice(at3 + 1, at3 + 4)).toEqual(all.slice(4, 7).map((m) => m.id)); // and after it
  };

  it('with JavaScript: the box shows results in a panel, and a result opens the room at the message, highlighted', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'seeker', problems);
    await enterRoom(page, `${server.url}/rooms/${room}`, 'seeker');
    expect(await page.locator(`#m-${needle.id}`).count()).toBe(0); // older than the history shown
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('NEEDLE');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const result = page.locator('#search-results .result a');
    await result.first().waitFor();
    expect(await result.count()).toBe(1);
    expect(await result.textContent()).toContain('the needle is here, number 3');
    expect(page.url()).toBe(`${server.url}/rooms/${room}`); // htmx: no page load
    expect(await page.locator('#status').getAttribute('data-state')).toBe('live');
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('hay 14');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await waitFor(async () => (await result.count()) === 11, 'hay 14 and hay 140 to 149'); // prefix: 14, 140…149
    expect(await result.first().textContent()).toContain('hay 149'); // newest first
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('needle');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await waitFor(async () => (await result.count()) === 1, 'the needle found again');
    await result.click();
    await expectOpenedAt(page, needle);
    await waitFor(async () => (await page.locator('#status').getAttribute('data-state')) === 'live', 'the stream live again');
    // The rest of the room follows it (the stream resumes from the last message shown), each message once.
    await waitFor(async () => (await page.locator('#messages .msg').count()) === 150, 'every message after it');
    expect(await page.locator('#messages').getAttribute('data-dupes')).toBe('0');
    expect(await page.locator(`#m-${needle.id}`).evaluate((el) => el.matches(':target'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('without JavaScript: the form renders the results, and a result opens the room at the message', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'no-js', problems, { javaScriptEnabled: false });
    await page.goto(`${server.url}/rooms/${room}`);
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('needle number');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await waitFor(() => page.url().includes('q=needle+number'), 'the form sent');
    const result = page.locator('#search-results .result a');
    await result.first().waitFor();
    expect(await result.count()).toBe(1);
    expect(await page.getByRole('searchbox', { name: 'Search messages' }).inputValue()).toBe('needle number'); // kept in the box
    await result.click();
    await expectOpenedAt(page, needle);
    expect(problems).toEqual([]);
  });

  it('is axe-clean with results shown, and tells a room without such a message', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, 'axe', problems, { bypassCSP: true });
    await enterRoom(page, `${server.url}/rooms/${room}`, 'axe');
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('hay 1');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await page.locator('#search-results .result').first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('giraffe');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await page.locator('#search-results', { hasText: 'No message' }).waitFor();
    expect(await page.locator('#search-results .result').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('opens a message that is no longer there as the room, saying so', async () => {
    const res = await fetch(`${server.url}/rooms/${room}?at=${Number(needle.id) + 1_000_000_000}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('That message is not here');
    expect(html).toContain(`id="m-${all.at(-1)!.id}"`); // the recent history instead
    expect((await fetch(`${server.url}/rooms/${room}?at=nonsense`)).status).toBe(400);
  });
});
