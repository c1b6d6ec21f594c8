import { describe, expect, it } from 'bun:test';
import { memoryApp } from './memory-app.ts';

const { app } = memoryApp();

/** A rename of a client with no stream here: a name that passes is a 404 (nobody to rename), a bad one a 4xx. */
const rename = (body: BodyInit, type?: string) =>
  app.request('/rooms/main/members/me', { method: 'PUT', body, headers: { 'X-Client-Id': 'c1', ...(type ? { 'Content-Type': type } : {}) } });

describe('PUT /rooms/:room/members/:client', () => {
  it('reads the new name from JSON, a form field, multipart or the whole text body', async () => {
    const multipart = new FormData();
    multipart.set('name', 'cy');
    for (const [body, type] of [
      [JSON.stringify({ name: 'ann' }), 'application/json'],
      ['name=bo+b', 'application/x-www-form-urlencoded'],
      ['bob', 'application/x-www-form-urlencoded'], // curl -d 'bob'
      ['100% bob', 'application/x-www-form-urlencoded'],
      ['cy', 'text/plain'],
      ['cy', undefined],
      [multipart, undefined],
    ] as [BodyInit, string | undefined][]) {
      const res = await rename(body, type);
      expect(res.status).toBe(404);
      expect((await res.json()).error).toBe('that client has no open stream in room main');
    }
  });

  const bad: [string, () => Response | Promise<Response>, number, string][] = [
    ['an empty name', () => rename(' \n ', 'text/plain'), 422, 'name is empty'],
    ['an over-long name', () => rename('n'.repeat(33), 'text/plain'), 422, 'longer than 32'],
    ['JSON without a name', () => rename('{"nom":"x"}', 'application/json'), 422, 'name is missing'],
    ['a JSON array', () => rename('["x"]', 'application/json'), 422, 'must be an object like {"name": "..."}'],
    ['invalid JSON', () => rename('{"name":', 'application/json'), 400, 'not valid JSON'],
    ['invalid UTF-8', () => rename(new Uint8Array([0x68, 0xff]), 'text/plain'), 400, 'UTF-8'],
    ['bad percent-encoding', () => rename('name=%E0%A4%A', 'application/x-www-form-urlencoded'), 400, 'percent-encoded'],
    ['a body over 1024 bytes', () => rename('n'.repeat(1025), 'text/plain'), 413, 'a name fits in 1024 bytes'],
    ['a content type it does not read', () => rename('<x/>', 'application/xml'), 415, 'not accepted'],
  ];
  it('needs the key: "me" without X-Client-Id is a 400 that says so, and the key in the path still works', async () => {
    const without = await app.request('/rooms/main/members/me', { method: 'PUT', body: 'ann', headers: { 'Content-Type': 'text/plain' } });
    expect(without.status).toBe(400);
    expect((await without.json()).error).toContain('X-Client-Id');
    expect((await app.request('/rooms/main/members/c1', { method: 'PUT', body: 'ann', headers: { 'Content-Type': 'text/plain' } })).status).toBe(404);
  });

  for (const [what, send, status, reason] of bad) {
    it(`refuses ${what} with ${status} and a reason`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect((await res.json()).error).toContain(reason);
    });
  }
});
