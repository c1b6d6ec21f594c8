/**
 * No request can rename, mute, rate-limit or hide messages from another person's stream: a client's id is its
 * secret key, and what the server keeps and passes around is only its public form (lib/input.ts publicClient).
 * The attacks tried on an open server: a rename of bob's stream, posts sent "as" bob's client that bob's own stream
 * then hid from him, and posts that spent bob's rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { publicClient } from '../../lib/input.ts';
import { openStream, startServer, type ServerProcess } from '../helpers.ts';

describe("another person's stream, on an open server", () => {
  let server: ServerProcess;
  const bobKey = randomBytes(16).toString('hex'); // as the page and bin/chat make it
  const seen = publicClient(bobKey); // the id the server passes around for bob's client
  beforeAll(async () => {
    server = await startServer(['--store', 'memory', '--post-rate', '1', '--post-burst', '5', '--post-rate-ip', '100', '--post-burst-ip', '200']);
  });
  afterAll(() => server.stop());

  const post = (text: string, client: string, name = 'mallory') =>
    fetch(`${server.url}/rooms/keys/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Client-Id': client }, body: JSON.stringify({ name, text }) });

  it('cannot be renamed, hidden from or rate-limited with any id but its key; with the key all of it works', async () => {
    const bob = await openStream(`${server.url}/rooms/keys/events?history=0&name=bob`, { 'X-Client-Id': bobKey });
    expect(bob.status).toBe(200);
    for (const id of [seen, 'bob']) {
      const renamed = await fetch(`${server.url}/rooms/keys/members/${id}`, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'bob-is-a-scammer' });
      expect(renamed.status).toBe(404);
      const asMe = await fetch(`${server.url}/rooms/keys/members/me`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', 'X-Client-Id': id }, body: 'bob-is-a-scammer' });
      expect(asMe.status).toBe(404);
    }
    expect((await (await fetch(`${server.url}/rooms/keys/members`)).json()).members).toEqual(['bob']);

    // Twenty posts under bob's public id: bob's stream shows every one (nothing hides them from him), and his own
    // limit is untouched: his next post goes through.
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await post(`spoof ${i}`, seen);
      if (res.status === 201) sent.push(((await res.json()) as { id: string }).id);
    }
    expect(sent.length).toBeGreaterThan(0);
    await bob.next((e) => e.id === sent.at(-1), 'the last spoofed post on bob\'s stream');
    expect(bob.messages().map((m) => m.id)).toEqual(sent);
    const own = await post('bob here', bobKey, 'bob');
    expect(own.status).toBe(201);
    const ownId = ((await own.json()) as { id: string }).id;

    // With the key: his own post stays off his stream, and a rename is his.
    const marker = await post('after', 'someone-elses-key-0123456789abcdef', 'carol');
    expect(marker.status).toBe(201);
    const markerId = ((await marker.json()) as { id: string }).id;
    await bob.next((e) => e.id === markerId, 'a later post by someone else');
    expect(bob.messages().map((m) => m.id)).not.toContain(ownId);
    const renamed = await fetch(`${server.url}/rooms/keys/members/me`, { method: 'PUT', headers: { 'Content-Type': 'text/plain', 'X-Client-Id': bobKey }, body: 'robert' });
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).members).toEqual(['robert']);
    bob.close();
  });
});
