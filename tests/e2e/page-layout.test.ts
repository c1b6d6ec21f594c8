/**
 * The layout as laid out by real Chromium, measured: on a phone (390 px) the people strip's chips stay clear of
 * "Notify me of mentions" and the /status chart's axis labels render at 11 px or more; on a desktop /status fills
 * its rows with no empty column; the text of your own bubbles (its time and links too) has WCAG AA contrast
 * (4.5:1) against every colour of the bubble, in the light and the dark theme.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { openStream, post, startServer, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { enterRoom, launchBrowser, openPage } from './browser-helpers.ts';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

interface Box {
  label: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}
const overlap = (a: Box, b: Box) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
const boxes = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((els) =>
    els.filter((e) => (e as HTMLElement).offsetParent !== null || e instanceof SVGElement).map((e) => {
      const r = e.getBoundingClientRect();
      return { label: `${e.id ? `#${e.id}` : e.className} "${(e.textContent ?? '').trim()}"`, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  );

/** WCAG 2 relative luminance and contrast, for colours as Chromium computes them (rgb() and rgba()). */
type Rgba = [number, number, number, number];
const parseColors = (css: string): Rgba[] =>
  [...css.matchAll(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])]);
const luminance = ([r, g, b]: Rgba) => {
  const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};
const over = ([r, g, b, a]: Rgba, [R, G, B]: Rgba): Rgba => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a), 1];
const contrast = (fg: Rgba, bg: Rgba) => {
  const [hi, lo] = [luminance(over(fg, bg)), luminance(bg)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

describe('layout, measured in Chromium', () => {
  const room = 'layout';
  const problems: string[] = [];
  const streams: Stream[] = [];
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
    browser = await launchBrowser();
    for (const name of ['bob', 'carol', 'dave', 'evelyn']) streams.push(await openStream(`${server.url}/rooms/${room}/events?name=${name}`));
    // Latency points for the /status chart.
    for (let i = 0; i < 3; i++) await post(server.url, room, { name: 'bob', text: `point ${i}` });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await browser?.close();
    await server?.stop();
  });

  it('phone: the people chips never run under "Notify me of mentions"', async () => {
    const page = await openPage(browser, 'phone', problems, { viewport: PHONE });
    await enterRoom(page, `${server.url}/rooms/${room}`, 'alice');
    await page.locator('#members .person', { hasText: 'evelyn' }).waitFor();
    await page.locator('#notify').waitFor();
    const chips = await boxes(page, '#members .person');
    const fixed = await boxes(page, '#notify, #people-title');
    expect(chips.length).toBe(5);
    expect(fixed.length).toBe(2);
    for (const chip of chips) for (const other of fixed) expect(`${chip.label} over ${other.label}: ${overlap(chip, other)}`).toEndWith('false');
    // The chips that do not fit scroll within their own strip, and the button stays on the screen.
    const notify = fixed.find((b) => b.label.startsWith('#notify'))!;
    expect(notify.right).toBeLessThanOrEqual(PHONE.width);
    expect(notify.left).toBeGreaterThanOrEqual(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('phone: the /status chart\'s axis labels render at 11 px or more, each clear of the others', async () => {
    const page = await openPage(browser, 'status phone', problems, { viewport: PHONE });
    await page.goto(`${server.url}/status`);
    await page.locator('.status-view').waitFor();
    const labels = await page.locator('#status-live .tick').evaluateAll((els) =>
      els.map((e) => {
        const size = parseFloat(getComputedStyle(e).fontSize);
        // Inside an SVG the font size is in the drawing's units: scaled to the screen with the drawing.
        const scale = e instanceof SVGGraphicsElement ? (e.getScreenCTM()?.a ?? 1) : 1;
        const r = e.getBoundingClientRect();
        return { label: e.textContent ?? '', rendered: size * scale, left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }),
    );
    expect(labels.map((l) => l.label)).toEqual(expect.arrayContaining(['0', '−60 s', 'now']));
    expect(labels.filter((l) => l.rendered < 11).map((l) => `${l.label}: ${l.rendered.toFixed(1)} px`)).toEqual([]);
    for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) expect(overlap(labels[i]!, labels[j]!)).toBe(false);
    const card = await page.locator('.stat-card', { has: page.locator('.latency-chart') }).boundingBox();
    for (const l of labels) {
      expect(l.left).toBeGreaterThanOrEqual(card!.x);
      expect(l.right).toBeLessThanOrEqual(card!.x + card!.width);
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('desktop: /status fills each row of cards, with no empty column', async () => {
    const page = await openPage(browser, 'status desktop', problems, { viewport: DESKTOP });
    await page.goto(`${server.url}/status`);
    await page.locator('.status-view').waitFor();
    const view = (await page.locator('.status-view').boundingBox())!;
    const cards = await boxes(page, '.status-view > .stat-card');
    const rows = new Map<number, Box[]>();
    for (const c of cards) rows.set(Math.round(c.top), [...(rows.get(Math.round(c.top)) ?? []), c]);
    expect(rows.size).toBeGreaterThan(1);
    expect([...rows.values()][0]!.length).toBeGreaterThan(1); // a desktop puts cards side by side
    for (const row of rows.values()) {
      expect(Math.abs(Math.min(...row.map((c) => c.left)) - view.x)).toBeLessThan(1.5);
      expect(Math.abs(Math.max(...row.map((c) => c.right)) - (view.x + view.width))).toBeLessThan(1.5);
    }
    expect(problems).toEqual([]);
    await page.context().close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`${colorScheme}: your own bubbles' text, time and links have 4.5:1 contrast against every colour of the bubble`, async () => {
      const page = await openPage(browser, `contrast ${colorScheme}`, problems, { viewport: DESKTOP, colorScheme });
      await enterRoom(page, `${server.url}/rooms/${room}`, `me-${colorScheme}`);
      await page.locator('#text').fill('the runbook: https://example.com/runbook');
      await page.locator('#text').press('Enter');
      const mine = page.locator('#messages .msg.mine').last();
      await mine.locator('.text a').waitFor();
      await waitFor(async () => !(await mine.evaluate((li) => li.getAnimations({ subtree: true }).length)), 'the arrival animation to end');
      const bubble = await mine.locator('.bubble').evaluate((e) => ({ image: getComputedStyle(e).backgroundImage, color: getComputedStyle(e).backgroundColor }));
      const backgrounds = parseColors(bubble.image).length ? parseColors(bubble.image) : parseColors(bubble.color);
      expect(backgrounds.length).toBeGreaterThan(0);
      const low: string[] = [];
      for (const selector of ['.text', 'time', '.text a']) {
        const [fg] = parseColors(await mine.locator(selector).evaluate((e) => getComputedStyle(e).color));
        const worst = Math.min(...backgrounds.map((bg) => contrast(fg!, bg)));
        if (worst < 4.5) low.push(`${selector}: ${worst.toFixed(2)}:1`);
      }
      expect(low).toEqual([]);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }
});
