import { messageFrame, resetFrame } from '../views/frames.ts';
import type { Store } from '../store/types.ts';
import type { HistoryPage } from './shm/protocol.ts';
import type { LogWriter } from './shm/shared-log.ts';
import type { OpenRequest } from './hub-api.ts';

export type ReplayRequest = Pick<OpenRequest, 'room' | 'client' | 'format' | 'history'>;
/** The next page of a stream's replay: the messages after `after` (null: the recent history). */
export type ReplayPages = (request: ReplayRequest, after: string | null) => Promise<HistoryPage>;

const encoder = new TextEncoder();

/**
 * History pages for the Workers' replays, read from the store and rendered on the main thread in the stream's
 * format, filtered for its client. The Worker writes a page frame by frame as its ring has room, and asks for
 * the next one (`more`) from the page's last id.
 */
export function createReplayPages(store: Store, log: LogWriter, pageSize: number): ReplayPages {
  /**
   * A first connect (after = null) shows the recent history with the client's own messages; a resume leaves those
   * out, as the client already has them. A first connect with history 0 reads nothing (the status streams).
   */
  return async (request, after) => {
    const fromSeq = log.seq; // taken before the query: whatever the query misses, the log has
    let result = after === null
      ? { messages: request.history > 0 ? await store.recent(request.room, request.history) : [], more: false, gap: false }
      : await store.since(request.room, after, pageSize);
    // Not an id of this store (it was reset since): say so, then show the recent history as to a newcomer.
    const restart = result.unknown === true;
    if (restart) result = { messages: await store.recent(request.room, request.history), more: false, gap: false };
    const reset = restart ? 'unknown' : result.gap ? 'gap' : null;
    const frames: string[] = reset ? [resetFrame(after, request.format, reset)] : [];
    for (const m of result.messages) {
      if (after !== null && !restart && request.client !== null && m.client === request.client) continue;
      frames.push(messageFrame(m, request.format));
    }
    const encoded = frames.map((f) => encoder.encode(f));
    const bytes = new Uint8Array(encoded.reduce((n, f) => n + f.length, 0));
    const ends: number[] = [];
    let at = 0;
    for (const f of encoded) {
      bytes.set(f, at);
      ends.push((at += f.length));
    }
    return { frames: bytes, ends, lastId: result.messages.at(-1)?.id ?? null, more: result.more, fromSeq, restart };
  };
}
