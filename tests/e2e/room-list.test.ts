/**
 * GET /rooms: the rooms the requester may read, newest first, with who is in each and its newest message's time,
 * as JSON, text and an htmx fragment; against real servers (open mode, and accounts with a denied room).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { BUN, openStream, post, ROOT, startServer, tempDir, type ServerProcess } from '../helpers.ts';

describe('the room list, open mode', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--store', 'memory']);
  });
  afterAll(() => server.stop());

  it('lists the rooms newest first, with the people in each and the time of its last message', async () => {
    const first = await post(server.url, 'alpha', { name: 'ann', text: 'one' });
    const second = await post(server.url, 'łódź', { name: 'ann', text: 'two' });
    const stream = await openStream(`${server.url}/rooms/${encodeURIComponent('łódź')}/events?name=bea&history=0`);
    const watcher = await openStream(`${server.url}/rooms/${encodeURIComponent('łódź')}/events?history=0`);
    const body = (await (await fetch(`${server.url}/rooms`)).json()) as { rooms: { name: string; here: number; watching: number; last: number; lastId: string }[] };
    expect(body.rooms).toEqual([
      { name: 'łódź', here: 1, watching: 1, last: second.ts, lastId: second.id },
      { name: 'alpha', here: 0, watching: 0, last: first.ts, lastId: first.id },
    ]);
    const text = await (await fetch(`${server.url}/rooms?format=text`)).text();
    expect(text.split('\n')[0]).toMatch(/^#łódź {2}1 here and 1 watching {2}last \d\d:\d\d:\d\d$/);
    const html = await (await fetch(`${server.url}/rooms`, { headers: { 'HX-Request': 'true' } })).text();
    expect(html).toContain(`href="/rooms/${encodeURIComponent('łódź')}"`);
    expect(html.indexOf('łódź')).toBeLessThan(html.indexOf('alpha'));
    expect((await fetch(`${server.url}/rooms?format=xml`)).status).toBe(400);
    // ?room= is still the switcher's redirect.
    expect((await fetch(`${server.url}/rooms?room=Alpha`, { redirect: 'manual' })).headers.get('location')).toBe('/rooms/alpha');
    stream.close();
    watcher.close();
  });
});

describe('the room list with accounts', () => {
  const data = tempDir();
  let server: ServerProcess;
  const bob = { Authorization: `Basic ${Buffer.from('bob:bob has a long password').toString('base64')}` };
  beforeAll(async () => {
    const run = (args: string[], stdin = '') => Bun.spawnSync([BUN, join(ROOT, 'scripts/user.ts'), ...args, '--data', data.path], { stdin: new Blob([stdin]) });
    expect(run(['add', 'root', '--admin', '--password-stdin'], 'root has a long password').exitCode).toBe(0);
    expect(run(['add', 'bob', '--password-stdin'], 'bob has a long password').exitCode).toBe(0);
    expect(run(['access', 'bob', 'secret-*', 'deny']).exitCode).toBe(0);
    server = await startServer(['--data', data.path, '--auth', 'accounts']);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('leaves out the rooms the requester may not read, and lists none to someone not signed in', async () => {
    const root = { Authorization: `Basic ${Buffer.from('root:root has a long password').toString('base64')}` };
    await post(server.url, 'secret-plans', { text: 'hush' }, root);
    await post(server.url, 'lobby', { text: 'hello' }, root);
    const names = async (headers: Record<string, string>) => ((await (await fetch(`${server.url}/rooms`, { headers })).json()) as { rooms: { name: string }[] }).rooms.map((r) => r.name);
    expect(await names(root)).toEqual(['lobby', 'secret-plans']);
    expect(await names(bob)).toEqual(['lobby']);
    expect(await names({})).toEqual([]);
  });
});
