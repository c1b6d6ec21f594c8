import { describe, expect, it } from 'bun:test';
import { memoryApp } from './memory-app.ts';

const { app, hub } = memoryApp();

describe('GET /rooms/:room/events refuses before a stream opens', () => {
  for (const [what, path, headers, reason] of [
    ['a bad client id in the header', '/rooms/main/events', { 'X-Client-Id': 'has space' }, 'client id must be 1-64 of A-Z, a-z, 0-9, _ and -'],
    ['an empty client id in the header', '/rooms/main/events', { 'X-Client-Id': '' }, 'client id must be 1-64 of A-Z, a-z, 0-9, _ and -'],
    ['an over-long client id in the header', '/rooms/main/events', { 'X-Client-Id': 'c'.repeat(65) }, 'client id must be 1-64 of A-Z, a-z, 0-9, _ and -'],
    ['a bad client id in the query', '/rooms/main/events?client=a%2Fb', {}, 'client id must be 1-64 of A-Z, a-z, 0-9, _ and -'],
    ['a bad Last-Event-ID', '/rooms/main/events', { 'Last-Event-ID': 'abc' }, 'Last-Event-ID must be an id this server sent'],
  ] as [string, string, Record<string, string>, string][]) {
    it(`answers 400 with a reason for ${what}`, async () => {
      const res = await app.request(path, { headers });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: reason });
      expect(hub.members('main').count).toBe(0);
    });
  }
});
