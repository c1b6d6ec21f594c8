/**
 * Room names in any script, one rule everywhere (lib/input.ts): letters of any script, digits, _ and -, in NFC and
 * lower case, percent-encoded in URLs; the page's switcher, POST, streams and links agree. Against a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { openStream, ROOT, startServer, type ServerProcess } from '../helpers.ts';

const path = (room: string) => `/rooms/${encodeURIComponent(room)}`;

describe('room names in any script', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
  });
  afterAll(() => server.stop());

  const postTo = (room: string, text: string) =>
    fetch(`${server.url}${path(room)}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ name: 'ann', text }) });

  it('keeps the letters of every script, in one room per name whatever its case or composition', async () => {
    const stream = await openStream(`${server.url}${path('łódź')}/events?history=0`);
    for (const [typed, text] of [['Łódź', 'capitals'], ['ŁÓDŹ', 'shouting'], ['łódź'.normalize('NFD'), 'decomposed']] as const) {
      const res = await postTo(typed, text);
      expect(res.status).toBe(201);
      expect((await res.json()).room).toBe('łódź');
    }
    await stream.next((e) => !e.event && JSON.parse(e.data).text === 'decomposed', 'the third post on the stream of łódź');
    expect(stream.messages().map((m) => m.text)).toEqual(['capitals', 'shouting', 'decomposed']);
    stream.close();
    for (const room of ['żółw', 'общий', 'café', '東京', 'नमस्ते']) expect((await postTo(room, `in ${room}`)).status).toBe(201);
    expect((await (await fetch(`${server.url}${path('Общий')}/messages`)).json()).messages.map((m: { text: string }) => m.text)).toEqual(['in общий']);
  });

  it('takes POST /rooms/General as room general, as the page does', async () => {
    expect((await postTo('General', 'hello')).status).toBe(201);
    const page = await fetch(`${server.url}/rooms/General`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(308);
    expect(page.headers.get('location')).toBe('/rooms/general');
    const html = await (await fetch(`${server.url}/rooms/general`, { headers: { Accept: 'text/html' } })).text();
    expect(html).toContain('hello');
  });

  it('sends the switcher and the address bar to the room meant, percent-encoded', async () => {
    const switched = await fetch(`${server.url}/rooms?room=${encodeURIComponent('#Żółw Party')}`, { redirect: 'manual' });
    expect(switched.status).toBe(303);
    expect(switched.headers.get('location')).toBe(path('żółw-party'));
    const typed = await fetch(`${server.url}${path('Łódź')}`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(typed.status).toBe(308);
    expect(typed.headers.get('location')).toBe(path('łódź'));
    const page = await fetch(`${server.url}${path('łódź')}`, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-room="łódź"');
  });

  it('lets bin/chat join a room of any script, its URLs percent-encoded', async () => {
    const chat = Bun.spawn(['bash', join(ROOT, 'bin/chat'), '--room', 'Żaba', '--name', 'zed', '--url', server.url], { stdin: new Blob(['from the terminal\n']), stdout: 'pipe', stderr: 'pipe' });
    expect(await chat.exited).toBe(0); // it sends the line, then ends at the end of its input
    const history = (await (await fetch(`${server.url}${path('żaba')}/messages`)).json()) as { messages: { text: string }[] };
    expect(history.messages.map((m) => m.text)).toEqual(['from the terminal']);
  });

  it('refuses what is not a letter, digit, _ or -, with the rule in the reason', async () => {
    for (const bad of ['a b', 'a/b', 'x'.repeat(65), '☃', 'a.b']) {
      const res = await postTo(bad, 'no');
      expect(res.status).toBe(400);
      expect((await res.json()).error).toContain('letters (of any script), digits, _ or -');
    }
  });
});
