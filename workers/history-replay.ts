/**
 * A stream's history: the pages of stored messages the hub renders for it (filtered for its client, in its
 * format), written frame by frame as its ring has room. The first page comes with the stream; the Worker asks
 * for each next one, and again from its last id when it fell behind the log.
 */
import type { HistoryPage, WorkerToMain } from '../fanout/shm/protocol.ts';
import type { LastId } from './last-id.ts';
import type { RingOutput } from './ring-output.ts';
import type { StopSignal } from './stop-signal.ts';

export function createHistoryReplay(
  firstPage: HistoryPage,
  { output, last, stop, post }: { output: RingOutput; last: LastId; stop: StopSignal; post: (message: WorkerToMain) => void },
) {
  let pageWaiter: ((page: HistoryPage) => void) | null = null;
  let pending: HistoryPage | null = firstPage;

  const nextPage = (after: string | null): Promise<HistoryPage> => {
    if (pending) {
      const page = pending;
      pending = null;
      return Promise.resolve(page);
    }
    post({ type: 'more', after });
    return Promise.race([new Promise<HistoryPage>((resolve) => (pageWaiter = resolve)), stop.rejection]);
  };

  return {
    /** Writes stored history page by page; returns the log position to follow from. */
    async replay(): Promise<number> {
      for (;;) {
        const page = await nextPage(last.text());
        let start = 0;
        for (const end of page.ends) {
          await output.write(page.frames.subarray(start, end), true);
          start = end;
        }
        if (page.restart) last.forget(); // not an id of this store: live messages are all new to this client
        last.setText(page.lastId);
        output.ringBell();
        if (!page.more) return page.fromSeq;
      }
    },
    /** A page the main thread sent, for the replay waiting for it or for the next one. */
    deliver(page: HistoryPage) {
      const waiter = pageWaiter;
      pageWaiter = null;
      if (waiter) waiter(page);
      else pending = page;
    },
  };
}
