/**
 * Markdown on the room page, in a real headless Chromium against a real server: what a reader's own post (the POST
 * answer), the live stream and the history after a reload show as elements; links made once (the server's, not
 * message-look.js's again), code left alone, @mentions still marked in formatted text, an edit rendered, and
 * Markdown's ways to smuggle script (links, images, raw HTML) inert under the page's strict CSP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { post, startServer, waitFor, type ServerProcess } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

const RICH = [
  '**Deploy** is _green_, run `bun test` and read [the runbook](https://example.com/runbook) or https://example.com/raw',
  '```ts',
  'const ok = 1 < 2; // https://example.com/not-a-link @alice',
  '```',
  '- first step',
  '- second step',
].join('\n');

/** How a page shows the message whose text starts with `start`: its elements, as the reader gets them. */
const look = (page: Page, start: string) =>
  waitFor(
    () => page.$$eval('#messages .msg', (items, s) => {
      const li = items.find((item) => item.querySelector('.text')?.textContent?.startsWith(s));
      const text = li?.querySelector('.text');
      if (!li || !text) return undefined;
      const all = (selector: string) => [...text.querySelectorAll(selector)].map((el) => el.textContent);
      return {
        strong: all('strong'),
        em: all('em'),
        inlineCode: all(':not(pre) > code'),
        pre: all('pre > code'),
        items: all('ul > li'),
        links: [...text.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target })),
        nestedLinks: text.querySelectorAll('a a, code a, pre a, code mark').length,
        marks: [...text.querySelectorAll('mark.mention')].map((m) => ({ text: m.textContent, in: m.parentElement?.localName })),
        mention: li.classList.contains('mention'),
        edited: li.querySelector('.edited') !== null,
        images: li.querySelectorAll('img, svg, iframe, script').length,
        pageImages: document.querySelectorAll('#messages img').length,
      };
    }, start),
    `the message "${start}" on the page`,
  );

describe('Markdown on the room page', () => {
  const room = 'md';
  const problems: string[] = [];
  let server: ServerProcess;
  let browser: Browser;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
    alice = await openPage(browser, 'alice', problems, { viewport: { width: 1100, height: 720 } });
    bob = await openPage(browser, 'bob', problems, { viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    await enterRoom(alice, `${server.url}/rooms/${room}`, 'alice');
    await enterRoom(bob, `${server.url}/rooms/${room}`, 'bob');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const expectRich = (shown: Awaited<ReturnType<typeof look>>) => {
    expect(shown.strong).toEqual(['Deploy']);
    expect(shown.em).toEqual(['green']);
    expect(shown.inlineCode).toEqual(['bun test']);
    expect(shown.pre).toEqual(['const ok = 1 < 2; // https://example.com/not-a-link @alice\n']);
    expect(shown.items).toEqual(['first step', 'second step']);
    const rel = 'nofollow noopener noreferrer';
    expect(shown.links).toEqual([
      { href: 'https://example.com/runbook', text: 'the runbook', rel, target: '_blank' },
      { href: 'https://example.com/raw', text: 'https://example.com/raw', rel, target: '_blank' },
    ]);
    expect(shown.nestedLinks).toBe(0);
    expect(shown.images).toBe(0);
  };

  it("renders bold, italic, code, a fenced block, a list and links: the sender's own post, live, and after a reload", async () => {
    await alice.locator('#text').fill(RICH);
    await alice.locator('#text').press('Enter');
    expectRich(await look(alice, 'Deploy is green'));
    const live = await look(bob, 'Deploy is green');
    expectRich(live);
    expect(live.marks).toEqual([]); // @alice in the code block is code, and bob is not alice
    await bob.reload();
    expectRich(await look(bob, 'Deploy is green'));
    await alice.reload();
    const history = await look(alice, 'Deploy is green');
    expectRich(history);
    expect(history.marks).toEqual([]); // alice's own message, and the @alice in it is code anyway
  });

  it('still marks @mentions in a bold line, and not in code', async () => {
    await post(server.url, room, { name: 'carol', text: '**Heads up @alice**, the build is red: see `@alice` in https://example.com/@alice' });
    const shown = await look(alice, 'Heads up @alice');
    expect(shown.marks).toEqual([{ text: '@alice', in: 'strong' }]);
    expect(shown.mention).toBe(true);
    expect(shown.links.map((l) => l.href)).toEqual(['https://example.com/@alice']);
    expect(shown.nestedLinks).toBe(0);
  });

  it('shows an edit rendered, not as raw Markdown, with its mention marked again', async () => {
    const key = 'carols-key-0123456789abcdef0123456789';
    const typo = await post(server.url, room, { name: 'carol', text: 'plain first version' }, { 'X-Client-Id': key });
    await look(alice, 'plain first version');
    const res = await fetch(`${server.url}/rooms/${room}/messages/${typo.id}`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json', 'X-Client-Id': key },
      body: JSON.stringify({ text: 'now **bold** for @alice, `code` and\n- a list https://example.com/e' }),
    });
    expect(res.status).toBe(200);
    const shown = await look(alice, 'now bold for @alice');
    expect(shown.strong).toEqual(['bold']);
    expect(shown.inlineCode).toEqual(['code']);
    expect(shown.items).toEqual(['a list https://example.com/e']);
    expect(shown.links.map((l) => l.href)).toEqual(['https://example.com/e']);
    expect(shown.marks).toEqual([{ text: '@alice', in: 'p' }]);
    expect(shown.edited).toBe(true);
  });

  it('scrolls a long code line sideways inside the bubble on a phone, and keeps the bubble on the screen', async () => {
    await post(server.url, room, { name: 'carol', text: `Long line:\n\`\`\`\n${'const x = 1; '.repeat(40)}\n\`\`\`` });
    await look(bob, 'Long line:');
    const box = await bob.$$eval('#messages .msg', (items) => {
      const li = items.find((item) => item.querySelector('.text')?.textContent?.startsWith('Long line:'))!;
      const pre = li.querySelector('pre')!;
      return {
        pre: { scroll: pre.scrollWidth, client: pre.clientWidth, overflow: getComputedStyle(pre).overflowX, background: getComputedStyle(pre).backgroundColor },
        bubbleRight: li.querySelector('.bubble')!.getBoundingClientRect().right,
        pageWidth: document.documentElement.clientWidth,
        pageScroll: document.documentElement.scrollWidth,
      };
    });
    expect(box.pre.overflow).toBe('auto');
    expect(box.pre.scroll).toBeGreaterThan(box.pre.client);
    expect(box.pre.background).not.toBe('rgba(0, 0, 0, 0)');
    expect(box.bubbleRight).toBeLessThanOrEqual(box.pageWidth);
    expect(box.pageScroll).toBe(box.pageWidth);
  });

  it("leaves Markdown's script links, images and raw HTML inert: no element, no link, no dialog", async () => {
    const hostile = [
      'XSS [x](javascript:alert(1)) <javascript:alert(2)> ![img](https://example.invalid/x.png)',
      '<img src=x onerror=alert(3)> <script>alert(4)</script> [y](jav&#x61;script:alert(5))',
    ].join('\n');
    await post(server.url, room, { name: 'carol', text: hostile });
    for (const page of [alice, bob]) {
      const shown = await look(page, 'XSS [x](javascript:alert(1))');
      expect(shown.images).toBe(0);
      expect(shown.pageImages).toBe(0);
      expect(shown.links).toEqual([{ href: 'https://example.invalid/x.png', text: 'img', rel: 'nofollow noopener noreferrer', target: '_blank' }]);
      expect(await page.locator('#messages .text', { hasText: '<img src=x onerror=alert(3)>' }).count()).toBe(1);
    }
    await alice.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
    expect(problems).toEqual([]);
  });
});
