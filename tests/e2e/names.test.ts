/**
 * Names on a real server in `--auth accounts --default-access read-write`: the anonymous choose their names, but not
 * a signed-in person's or a look-alike of it (`al\u200bice`, a Cyrillic `аlice`, `ALICE`), wherever a name enters
 * (a post, a stream's ?name=, a rename, typing); signed in, the name is the account's whatever the request says;
 * and every format shows a verified name apart from a chosen one (JSON `verified`, the page's ✓, the text `~name`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, openStream, ROOT, startServer, tempDir, waitFor, type ServerProcess, type Stream } from '../helpers.ts';

const PASSWORD = 'alice has a long password';
const TAKEN = 'that name belongs to a signed-in person; choose another';
const LOOK_ALIKES = ['al\u200bice', '\u0430lice', 'ALICE', 'ａｌｉｃｅ', 'a\u200dl\u2060ic\u00ade'];

/** Runs `bun run user ARGS` on the store, with `stdin` piped in. */
async function user(store: string[], args: string[], stdin = '') {
  const proc = Bun.spawn([BUN, join(ROOT, 'scripts/user.ts'), ...args, ...store], { stdin: new Blob([stdin]), stdout: 'pipe', stderr: 'pipe' });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr };
}
const basic = (name: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });

describe('names in accounts mode with anonymous posting allowed', () => {
  const data = tempDir();
  const store = ['--data', data.path];
  let server: ServerProcess;
  const url = (path: string) => `${server.url}${path}`;
  const post = (room: string, name: string, text: string, headers: Record<string, string> = {}) =>
    fetch(url(`/rooms/${room}/messages?name=${encodeURIComponent(name)}`), {
      method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: text,
    });
  const refusedAsTaken = async (res: Response, what: string) => {
    expect(res.status, what).toBe(409);
    expect(await res.json(), what).toEqual({ error: TAKEN });
  };

  beforeAll(async () => {
    expect((await user(store, ['add', 'alice', '--password-stdin'], `${PASSWORD}\n`)).code).toBe(0);
    server = await startServer(['--data', data.path, '--auth', 'accounts', '--default-access', 'read-write'], { CHAT_POST_RATE: '0', CHAT_POST_RATE_IP: '0' });
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it("refuses an anonymous post, stream name, rename or typing under alice's name or a look-alike of it", async () => {
    for (const name of LOOK_ALIKES) {
      const what = JSON.stringify(name);
      await refusedAsTaken(await post('main', name, 'I am alice'), `post as ${what}`);
      const json = await fetch(url('/rooms/main/messages'), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, text: 'I am alice' }),
      });
      await refusedAsTaken(json, `JSON post as ${what}`);
      const stream = await openStream(url(`/rooms/main/events?name=${encodeURIComponent(name)}`), { 'X-Client-Id': 'mallory-key-0123' });
      expect(stream.status, `stream as ${what}`).toBe(409);
      expect(JSON.parse(stream.refusal!)).toEqual({ error: TAKEN });
    }

    // A stream under a free name, renamed (and typing) under alice's: refused, and the stream keeps its name.
    const mallory = await openStream(url('/rooms/main/events?name=mallory&history=0'), { 'X-Client-Id': 'mallory-key-0123' });
    expect(mallory.status).toBe(200);
    for (const [i, name] of LOOK_ALIKES.entries()) {
      const renamed = await fetch(url('/rooms/main/members/me'), {
        method: 'PUT', headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Client-Id': 'mallory-key-0123' }, body: name,
      });
      await refusedAsTaken(renamed, `rename to ${JSON.stringify(name)}`);
      const typing = await fetch(url('/rooms/main/typing'), {
        // A client id each: typing notices are limited per client to a few a second.
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Client-Id': `typist-key-${i}` }, body: JSON.stringify({ name }),
      });
      await refusedAsTaken(typing, `typing as ${JSON.stringify(name)}`);
    }
    expect((await (await fetch(url('/rooms/main/members'))).json()).members).toEqual(['mallory']);
    mallory.close();
  });

  it('keeps other anonymous names free, normalised', async () => {
    const carol = await post('main', 'car\u200bol\u202e', 'hello');
    expect(carol.status).toBe(201);
    expect(await carol.json()).toMatchObject({ name: 'carol', verified: false });
    expect((await post('main', 'alicia', 'not alice')).status).toBe(201);
  });

  it('signed in, alice posts as alice whatever ?name= says, and may use her own name anywhere', async () => {
    const res = await post('main', 'bob', 'from alice', basic('alice', PASSWORD));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name: 'alice', text: 'from alice', verified: true });
    const stream = await openStream(url('/rooms/main/events?name=bob&history=0'), { ...basic('alice', PASSWORD), 'X-Client-Id': 'alice-key-0123' });
    expect(stream.status).toBe(200);
    const { members } = (await (await fetch(url('/rooms/main/members'))).json()) as { members: string[] };
    expect(members).toContain('alice');
    expect(members).not.toContain('bob');
    stream.close();
  });

  it('protects an account made while the server runs, within a few seconds', async () => {
    expect((await post('main', 'dave', 'before dave signs up')).status).toBe(201);
    expect((await user(store, ['add', 'dave', '--password-stdin'], 'dave has a long password too')).code).toBe(0);
    await waitFor(async () => (await post('main', 'DAVE', 'after')).status === 409, 'the new account name refused');
  });

  it('shows a verified name apart from a chosen one in JSON, HTML and text', async () => {
    const room = 'marks';
    const streams: Record<'json' | 'html' | 'text', Stream> = {
      json: await openStream(url(`/rooms/${room}/events?format=json&history=0`)),
      html: await openStream(url(`/rooms/${room}/events?format=html&history=0`)),
      text: await openStream(url(`/rooms/${room}/events?format=text&history=0`)),
    };
    for (const s of Object.values(streams)) expect(s.status).toBe(200);
    const fromAlice = (await (await post(room, 'ignored', 'signed hello', basic('alice', PASSWORD))).json()) as { id: string };
    const fromCarol = (await (await post(room, 'carol', 'anonymous hello')).json()) as { id: string };
    const last = (await (await post(room, 'erin', 'the end')).json()) as { id: string };
    const frame = (format: keyof typeof streams, id: string) => streams[format].next((e) => e.id === id, `${format} frame ${id}`).then((e) => e.data);

    expect(JSON.parse(await frame('json', fromAlice.id))).toMatchObject({ name: 'alice', verified: true });
    expect(JSON.parse(await frame('json', fromCarol.id))).toMatchObject({ name: 'carol', verified: false });

    const aliceHtml = await frame('html', fromAlice.id);
    const carolHtml = await frame('html', fromCarol.id);
    // A verified name links to your direct messages with them (by their person key, never their id).
    expect(aliceHtml).toMatch(/<b class="name"><a class="person-link" href="\/dm\/[0-9a-f]{20}" tabindex="-1" title="Send alice a direct message">alice<\/a><span class="verified" role="img" aria-label="verified"/);
    expect(carolHtml).toContain('<b class="name anon" title="not signed in">carol</b>');
    expect(carolHtml).not.toContain('verified');
    expect(carolHtml).not.toContain('/dm/');

    expect(await frame('text', fromAlice.id)).toMatch(/^\[\d\d:\d\d:\d\d\] alice: signed hello$/);
    expect(await frame('text', fromCarol.id)).toMatch(/^\[\d\d:\d\d:\d\d\] ~carol: anonymous hello$/);

    // History keeps the mark: JSON, and the text pages bin/chat scrolls back through.
    const history = (await (await fetch(url(`/rooms/${room}/messages`))).json()) as { messages: { name: string; verified?: boolean }[] };
    expect(history.messages.map((m) => [m.name, m.verified])).toEqual([['alice', true], ['carol', false], ['erin', false]]);
    const older = await (await fetch(url(`/rooms/${room}/messages?before=${last.id}&format=text`))).text();
    expect(older).toContain('] alice: signed hello');
    expect(older).toContain('] ~carol: anonymous hello');
    for (const s of Object.values(streams)) s.close();
  });
});
