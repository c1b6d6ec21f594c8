import type { Store } from './types.ts';

/** Messages read per step when looking back for a time. */
const PAGE = 1000;

/**
 * Where `since=10m` starts: the id of the newest message of `room` older than `ts` (a resume from it gives every
 * message from `ts` on), or '0' (from the start) when none older is kept. Within a room `ts` never decreases in id
 * order, so the first older one found, from the newest back, is the place. Pages back through what the store keeps
 * (at most its retention), newest first.
 */
export async function idBefore(store: Store, room: string, ts: number): Promise<string> {
  let page = await store.recent(room, PAGE);
  for (;;) {
    for (let i = page.length - 1; i >= 0; i--) if (page[i]!.ts < ts) return page[i]!.id;
    if (page.length < PAGE || !page[0]) return '0';
    page = (await store.before(room, page[0].id, PAGE)).messages;
  }
}
