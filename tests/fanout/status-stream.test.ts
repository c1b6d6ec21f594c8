/**
 * A status stream on the hub with its real Workers, over a real memory store whose history reads are counted: it
 * reads no history, joins no presence, and gets a snapshot at once.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { createHub } from '../../fanout/hub.ts';
import { STATUS_ROOM } from '../../fanout/hub-api.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { Store } from '../../store/types.ts';
import { createLogger } from '../../lib/logger.ts';
import type { StatusSnapshot } from '../../views/status-snapshot.ts';
import { waitFor } from '../helpers.ts';
import { openRequest } from './open-request.ts';

const request = openRequest;

/** The unnamed events of a stream, parsed, as its client reads them. */
function snapshotsOf(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  void (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
  })();
  return {
    list: (): StatusSnapshot[] => [...text.matchAll(/^data: (\{.*\})$/gm)].map((m) => JSON.parse(m[1]!)),
    cancel: () => reader.cancel(),
  };
}

describe('a status stream on the hub', () => {
  const memory = createMemoryStore({ retention: 100 });
  const reads: string[] = [];
  const store: Store = {
    ...memory,
    recent: (room, limit) => (reads.push(`recent ${room}`), memory.recent(room, limit)),
    since: (room, after, limit) => (reads.push(`since ${room}`), memory.since(room, after, limit)),
  };
  const hub = createHub({ store, logger: createLogger('silent'), maxStreams: 4, replayPage: 10, pool: { minIdle: 1, maxIdle: 2 } });
  afterAll(() => hub.close());

  it('reads no history, joins no presence, and gets a snapshot at once', async () => {
    const room = snapshotsOf(await hub.open(request({ room: 'main', name: 'ann' })));
    expect(reads).toEqual(['recent main']); // a room stream does read its history
    const status = snapshotsOf(await hub.open(request({ room: STATUS_ROOM, history: 0 })));
    const [first] = await waitFor(() => (status.list().length ? status.list() : null), 'the first snapshot', 3000);
    expect(reads).toEqual(['recent main']);
    expect(hub.members(STATUS_ROOM)).toMatchObject({ count: 0, members: [] });
    expect(hub.members('main')).toMatchObject({ count: 1, members: ['ann'] });
    expect(first).toMatchObject({ snapshot: 1, rooms: [{ room: 'main', streams: 1 }], streams: { open: 1, status: 1 } });
    await status.cancel();
    await room.cancel();
  });
});
