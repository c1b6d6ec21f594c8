import { beforeAll, describe, expect, it } from 'bun:test';
import { createApp } from '../../app.ts';
import { publicClient } from '../../lib/input.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { Hub } from '../../fanout/hub-api.ts';

/**
 * The routes need of the hub only what a POST tells it (a rename, then waiting for the room's streams): a fake
 * records that, and the real hub with its Workers is tested in tests/fanout/hub.test.ts.
 */
function fakeHub() {
  const renames: [string, string | null, string][] = [];
  let caughtUp: Hub['caughtUp'] = () => null;
  const hub: Hub = {
    open: () => Promise.reject(new Error('the route tests open no stream')),
    members: (room) => ({ room, members: [], count: 0, change: null }),
    caughtUp: (room) => caughtUp(room),
    renameMember: (room, client, name) => (renames.push([room, client, name]), false),
    typing: () => {},
    drop: () => {},
    revoke: () => 0,
    stats: () => ({ streams: 0, connecting: 0, workers: 0, idle: 0, starting: 0, returning: 0, threads: 0, buffered: 0, logSeq: 0, rooms: 0, waves: 0, statusSnapshots: 0, wait: 'atomics' }),
    close: async () => {},
  };
  return { hub, renames, holdPosts: (hold: Hub['caughtUp']) => void (caughtUp = hold) };
}

const config = loadConfig(['--store', 'memory'], {});
const store = createMemoryStore();
const logger = createLogger('silent');
const fake = fakeHub();
const runtime = { name: 'bun' as const, peer: () => 'test:1', address: () => 'test', keepOpen: () => {} };
const app = createApp({ config, store, hub: fake.hub, logger, runtime });

const postRaw = (body: BodyInit | null, headers: Record<string, string> = {}, path = '/rooms/main/messages') =>
  app.request(path, { method: 'POST', body, headers });

describe('POST /rooms/:room/messages', () => {
  it('accepts JSON, forms, multipart and raw text', async () => {
    const json = await postRaw(JSON.stringify({ name: 'ann', text: 'from json' }), { 'Content-Type': 'application/json' });
    expect(json.status).toBe(201);
    expect(await json.json()).toMatchObject({ name: 'ann', text: 'from json', room: 'main' });
    const form = await postRaw('name=bo+b&text=from%20form', { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' });
    expect(await form.json()).toMatchObject({ name: 'bo b', text: 'from form' });
    const multipart = new FormData();
    multipart.set('name', 'cy');
    multipart.set('text', 'from multipart');
    expect(await (await postRaw(multipart, { Accept: 'application/json' })).json()).toMatchObject({ name: 'cy', text: 'from multipart' });
    // What `curl -d 'hello' '…?name=alice'` sends: a bare body with the form content type.
    const curlish = await postRaw('hello', { 'Content-Type': 'application/x-www-form-urlencoded' }, '/rooms/main/messages?name=alice');
    expect(await curlish.json()).toMatchObject({ name: 'alice', text: 'hello' });
    const plain = await postRaw('plain text', { 'Content-Type': 'text/plain' });
    expect(await plain.json()).toMatchObject({ name: 'anonymous', text: 'plain text' });
  });

  it('strips control characters and keeps names on one line', async () => {
    const res = await postRaw(JSON.stringify({ name: 'ev\nil\u0007', text: 'a\r\nb\u0000c\r\n\r\nevent: bye' }), { 'Content-Type': 'application/json' });
    expect(await res.json()).toMatchObject({ name: 'ev il', text: 'a\nbc\n\nevent: bye' });
  });

  it('answers htmx with the message markup, and a browser without JavaScript with a redirect', async () => {
    const htmx = await postRaw('text=%3Cimg+src%3Dx%3E', { 'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true' });
    expect(htmx.status).toBe(201);
    const html = await htmx.text();
    expect(html).toContain('&lt;img src=x&gt;');
    expect(html).not.toContain('<img');
    const plain = await postRaw('text=hi', { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toStartWith('/rooms/main');
  });

  it("renames the poster's streams to the name it posted under", async () => {
    await postRaw(JSON.stringify({ name: 'dee', text: 'hi', client: 'c-dee' }), { 'Content-Type': 'application/json' }, '/rooms/renames/messages');
    expect(fake.renames).toContainEqual(['renames', publicClient('c-dee'), 'dee']); // the key's public form, never the key
  });

  it("answers only once the hub says the room's streams keep up, with the message stored before", async () => {
    let catchUp = () => {};
    const asked = Promise.withResolvers<string>();
    fake.holdPosts((room) => (asked.resolve(room), new Promise<void>((resolve) => (catchUp = resolve))));
    try {
      let answered = false;
      const res = Promise.resolve(postRaw(JSON.stringify({ text: 'held' }), { 'Content-Type': 'application/json' }, '/rooms/held/messages')).then((r) => ((answered = true), r));
      expect(await asked.promise).toBe('held');
      expect((await store.recent('held', 1)).map((m) => m.text)).toEqual(['held']);
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve)); // a route that did not wait answers here
      expect(answered).toBe(false);
      catchUp();
      expect((await res).status).toBe(201);
    } finally {
      fake.holdPosts(() => null);
      catchUp();
    }
  });

  const bad: [string, () => Response | Promise<Response>, number, string][] = [
    ['empty text', () => postRaw(JSON.stringify({ text: '  \n ' }), { 'Content-Type': 'application/json' }), 422, 'text is empty'],
    ['missing text', () => postRaw(JSON.stringify({ name: 'x' }), { 'Content-Type': 'application/json' }), 422, 'text is missing'],
    ['over-long text', () => postRaw(JSON.stringify({ text: 'x'.repeat(4001) }), { 'Content-Type': 'application/json' }), 422, 'longer than 4000'],
    ['over-long name', () => postRaw(JSON.stringify({ name: 'n'.repeat(33), text: 'hi' }), { 'Content-Type': 'application/json' }), 422, 'longer than 32'],
    ['text of the wrong type', () => postRaw(JSON.stringify({ text: 42 }), { 'Content-Type': 'application/json' }), 422, 'text'],
    ['bad room', () => postRaw('hi', {}, '/rooms/No_Caps!/messages'), 400, 'room must be'],
    ['invalid JSON', () => postRaw('{"text":', { 'Content-Type': 'application/json' }), 400, 'not valid JSON'],
    ['a JSON array', () => postRaw('[1]', { 'Content-Type': 'application/json' }), 422, 'must be an object'],
    ['wrong content type', () => postRaw('<x/>', { 'Content-Type': 'application/xml' }), 415, 'not accepted'],
    ['invalid UTF-8', () => postRaw(new Uint8Array([0x68, 0xff, 0xfe]), { 'Content-Type': 'text/plain' }), 400, 'UTF-8'],
    ['bad percent-encoding', () => postRaw('text=%E0%A4%A', { 'Content-Type': 'application/x-www-form-urlencoded' }), 400, 'percent-encoded'],
    ['a body over the limit', () => postRaw('x'.repeat(70_000), { 'Content-Type': 'text/plain' }), 413, 'larger than'],
    ['a bad client id', () => postRaw(JSON.stringify({ text: 'hi', client: 'has space' }), { 'Content-Type': 'application/json' }), 422, 'client id'],
  ];
  for (const [what, send, status, reason] of bad) {
    it(`refuses ${what} with ${status} and a reason, storing nothing`, async () => {
      const before = await store.recent('main', 10_000);
      const res = await send();
      expect(res.status).toBe(status);
      expect((await res.json()).error).toContain(reason);
      expect(await store.recent('main', 10_000)).toEqual(before);
    });
  }
});

describe('GET /rooms/:room/messages', () => {
  it('pages through history after an id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.append({ room: 'hist', name: 'a', text: `h${i}`, client: 'secret' })).id);
    const res = await app.request(`/rooms/hist/messages?after=${ids[1]}&limit=2`);
    const body = await res.json();
    expect(body.messages.map((m: { text: string }) => m.text)).toEqual(['h2', 'h3']);
    expect(body.more).toBe(true);
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('refuses bad query values', async () => {
    expect((await app.request('/rooms/hist/messages?limit=0')).status).toBe(400);
    expect((await app.request('/rooms/hist/messages?after=abc')).status).toBe(400);
    expect((await app.request('/rooms/hist/events?format=xml')).status).toBe(400);
    expect((await app.request('/rooms/hist/events', { headers: { 'Last-Event-ID': 'nope' } })).status).toBe(400);
  });
});

describe('GET /rooms/:room/messages?before=', () => {
  const texts = (body: { messages: { text: string }[] }) => body.messages.map((m) => m.text);
  const ids: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 8; i++) ids.push((await store.append({ room: 'back', name: 'a', text: i === 6 ? '<b>bold</b>' : `b${i}`, client: 'secret' })).id);
  });

  it('pages back from an id, oldest first, in the shape of ?after=', async () => {
    const res = await app.request(`/rooms/back/messages?before=${ids[5]}&limit=2`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(texts(body)).toEqual(['b3', 'b4']);
    expect(body).toMatchObject({ room: 'back', more: true, gap: false, unknown: false, trimmed: false });
    expect(JSON.stringify(body)).not.toContain('secret');
    const last = await (await app.request(`/rooms/back/messages?before=${body.messages[0].id}&limit=5`)).json();
    expect(texts(last)).toEqual(['b0', 'b1', 'b2']);
    expect(last).toMatchObject({ more: false, trimmed: false });
    expect(await (await app.request('/rooms/back/messages?before=1')).json()).toMatchObject({ messages: [], unknown: true });
  });

  it('answers htmx with the messages as <li> items, escaped, after the next sentinel or the start of the room', async () => {
    const page = await app.request(`/rooms/back/messages?before=${ids[6]}&limit=2`, { headers: { 'HX-Request': 'true' } });
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toStartWith(`<li class="older" hx-get="/rooms/back/messages?before=${ids[4]}&amp;limit=50&amp;format=html" hx-trigger="intersect"`);
    expect([...html.matchAll(/data-id="(\d+)"/g)].map((m) => m[1])).toEqual([ids[4], ids[5]]);
    const start = await (await app.request(`/rooms/back/messages?before=${ids[2]}&format=html`)).text();
    expect(start).toStartWith(`<li class="edge history-start" data-older="/rooms/back/messages?before=${ids[0]}&amp;limit=50&amp;format=html">This is the start of #back.</li>`);
    expect(start).not.toContain('class="older"');
    const escaped = await (await app.request(`/rooms/back/messages?before=${ids[7]}&limit=1&format=html`)).text();
    expect(escaped).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(escaped).not.toContain('<b>bold');
  });

  it('answers format=text with terminal lines, the oldest id in a header, and a line when nothing is older', async () => {
    const more = await app.request(`/rooms/back/messages?before=${ids[5]}&limit=2&format=text`);
    expect(more.headers.get('x-oldest-id')).toBe(ids[3]!);
    expect((await more.text()).split('\n')).toEqual([expect.stringMatching(/^\[\d\d:\d\d:\d\d\] a: b3$/), expect.stringMatching(/ a: b4$/), '']);
    const end = await (await app.request(`/rooms/back/messages?before=${ids[1]}&format=text`)).text();
    expect(end).toMatch(/ a: b0\n\* nothing older: this is the start of #back\n$/);
  });

  it('says when retention removed what is older', async () => {
    const small = createMemoryStore({ retention: 5 });
    const trimmedApp = createApp({ config: loadConfig(['--store', 'memory', '--retention', '5'], {}), store: small, hub: fake.hub, logger, runtime });
    let last = '';
    for (let i = 0; i < 12; i++) last = (await small.append({ room: 'short', name: 'a', text: `s${i}`, client: null })).id;
    const body = await (await trimmedApp.request(`/rooms/short/messages?before=${last}`)).json();
    expect(texts(body)).toEqual(['s7', 's8', 's9', 's10']);
    expect(body).toMatchObject({ more: false, trimmed: true });
    const html = await (await trimmedApp.request(`/rooms/short/messages?before=${last}`, { headers: { 'HX-Request': 'true' } })).text();
    expect(html).toMatch(/^<li class="edge history-trimmed" data-older="[^"]+">Older messages are no longer kept: this server keeps about the last 5 of a room\.<\/li>/);
    const text = await (await trimmedApp.request(`/rooms/short/messages?before=${last}&format=text`)).text();
    expect(text).toEndWith('* nothing older is kept: the server removed older messages (it keeps about the last 5 of a room)\n');
  });

  const bad: [string, string][] = [
    ['both after and before', `?after=${1}&before=${2}`],
    ['a before that is not an id', '?before=abc'],
    ['an empty before', '?before='],
    ['a limit of 0', '?before=5&limit=0'],
    ['an unknown format', '?before=5&format=xml'],
    ['html without before', '?format=html'],
  ];
  for (const [what, query] of bad) {
    it(`refuses ${what} with 400 and a reason`, async () => {
      const res = await app.request(`/rooms/back/messages${query}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/after=|before|limit|format/);
    });
  }
});
