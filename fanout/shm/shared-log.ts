import {
  DEFAULT_LOG_SIZES, LOG_HEADER_INTS, LOG_INDEX_FIELDS, LOG_INDEX_LENGTH, LOG_INDEX_META, LOG_INDEX_OFFSET,
  LOG_INDEX_ROOM, LOG_INDEX_SEQ, LOG_OLDEST, LOG_SEQ, type LogSizes,
} from './protocol.ts';

/** Bytes of the one SharedArrayBuffer that holds a log with these sizes. */
export function logBufferBytes(sizes: LogSizes): number {
  return (LOG_HEADER_INTS + sizes.indexSlots * LOG_INDEX_FIELDS) * 4 + sizes.dataBytes;
}

function views(buffer: SharedArrayBuffer, sizes: LogSizes) {
  const header = new Int32Array(buffer, 0, LOG_HEADER_INTS);
  const index = new Int32Array(buffer, LOG_HEADER_INTS * 4, sizes.indexSlots * LOG_INDEX_FIELDS);
  const data = new Uint8Array(buffer, (LOG_HEADER_INTS + sizes.indexSlots * LOG_INDEX_FIELDS) * 4, sizes.dataBytes);
  return { header, index, data };
}

/**
 * The single writer of the event log (the main thread). Each entry is written once, however many Workers read it.
 * Entries are laid end to end in the data ring; one that does not fit before the end starts again at 0.
 */
export function createLogWriter(sizes: LogSizes = DEFAULT_LOG_SIZES) {
  const buffer = new SharedArrayBuffer(logBufferBytes(sizes));
  const { header, index, data } = views(buffer, sizes);
  const mask = sizes.indexSlots - 1;
  let head = 0; // next free byte in `data`
  let oldest = 0; // mirrors header[LOG_OLDEST]

  const overlaps = (seq: number, from: number, to: number) => {
    const at = (seq & mask) * LOG_INDEX_FIELDS;
    const off = index[at + LOG_INDEX_OFFSET]!;
    return off < to && off + index[at + LOG_INDEX_LENGTH]! > from;
  };

  return {
    buffer,
    sizes,
    /** Sequence number the next entry gets; entries below it are readable. */
    get seq() {
      return header[LOG_SEQ]!;
    },
    /**
     * Publishes one entry (readers see it at their next look; its room's word wakes the sleeping ones). `roomWord`:
     * the room's word, or -1 when no stream follows the room; `meta`: the entry's metadata fields (entry.ts).
     * Returns its sequence number.
     */
    append(bytes: Uint8Array, roomWord = -1, meta?: ArrayLike<number>): number {
      if (bytes.length > sizes.dataBytes / 4) throw new RangeError(`log entry of ${bytes.length} bytes is too large`);
      const seq = header[LOG_SEQ]!;
      let off = head;
      let wasted = -1; // start of the unused tail when this entry wraps to 0
      if (off + bytes.length > sizes.dataBytes) {
        wasted = off;
        off = 0;
      }
      const end = off + bytes.length;
      // Retire every entry whose bytes this write covers (or whose index slot it reuses) before touching them.
      while (
        oldest < seq &&
        (seq - oldest >= sizes.indexSlots || overlaps(oldest, off, end) || (wasted >= 0 && overlaps(oldest, wasted, sizes.dataBytes)))
      ) oldest++;
      Atomics.store(header, LOG_OLDEST, oldest);
      data.set(bytes, off);
      const at = (seq & mask) * LOG_INDEX_FIELDS;
      index[at + LOG_INDEX_SEQ] = seq;
      index[at + LOG_INDEX_OFFSET] = off;
      index[at + LOG_INDEX_LENGTH] = bytes.length;
      index[at + LOG_INDEX_ROOM] = roomWord;
      if (meta) index.set(meta, at + LOG_INDEX_META);
      head = end;
      Atomics.store(header, LOG_SEQ, seq + 1);
      return seq;
    },
  };
}

export type LogWriter = ReturnType<typeof createLogWriter>;

/** A reader's view of the log (one per Worker). */
export function createLogReader(buffer: SharedArrayBuffer, sizes: LogSizes) {
  const { header, index, data } = views(buffer, sizes);
  const mask = sizes.indexSlots - 1;
  return {
    /** The index and data, for a reader that takes fields in place (see slot()). */
    index,
    data,
    get seq() {
      return Atomics.load(header, LOG_SEQ);
    },
    /** The room word entry `seq` was appended with (-1: none). Valid only while `intact(seq)`. */
    roomWord(seq: number): number {
      return index[(seq & mask) * LOG_INDEX_FIELDS + LOG_INDEX_ROOM]!;
    },
    /**
     * Where entry `seq`'s index slot starts in `index` (its fields at LOG_INDEX_*), or -1 when it is gone. What is
     * read from the slot, or from the bytes it points to, must be confirmed with `intact(seq)` afterwards: the
     * writer may have overwritten the entry meanwhile.
     */
    slot(seq: number): number {
      if (seq < Atomics.load(header, LOG_OLDEST)) return -1;
      const at = (seq & mask) * LOG_INDEX_FIELDS;
      return index[at + LOG_INDEX_SEQ] === seq ? at : -1;
    },
    /** Whether entry `seq` still holds what was written (no overwrite has begun). */
    intact(seq: number): boolean {
      return seq >= Atomics.load(header, LOG_OLDEST);
    },
  };
}

export type LogReader = ReturnType<typeof createLogReader>;
