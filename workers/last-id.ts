/**
 * The last message id a stream's client has: written to it, or skipped as its own. Kept as the (hi, lo) numbers
 * of the log entries' id fields (fanout/shm/entry.ts), so the follow loop compares integers; made text only when
 * a history page is asked for.
 */
import { idParts } from '../fanout/shm/entry.ts';

export class LastId {
  /** -1 while there is none: every message is new to this client. */
  hi = -1;
  lo = 0;
  /** Whether the id has the "ms-seq" form (Redis). */
  dash = false;

  constructor(id: string | null) {
    this.setText(id);
  }

  /** The one place the last id changes. */
  set(hi: number, lo: number, dash: boolean) {
    this.hi = hi;
    this.lo = lo;
    this.dash = dash;
  }

  /** set() from an id's text; null keeps what there is. */
  setText(id: string | null) {
    if (id === null) return;
    const [hi, lo] = idParts(id);
    this.set(hi, lo, id.includes('-'));
  }

  /** The id was not one of this store's: from now on every message is new to the client. */
  forget() {
    this.hi = -1;
  }

  text(): string | null {
    return this.hi < 0 ? null : this.dash ? `${this.hi}-${this.lo}` : String(this.hi);
  }
}
