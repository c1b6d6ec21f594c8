import { LOG_INDEX_LENGTH, LOG_INDEX_OFFSET } from '../../../fanout/shm/protocol.ts';
import type { LogReader } from '../../../fanout/shm/shared-log.ts';

/**
 * A copy of entry `seq`, read as a stream Worker reads the log (slot(), the index and data in place, then
 * intact()), or null when the writer has overwritten it: the check after the copy catches an overwrite that
 * raced with it.
 */
export function readEntry(reader: LogReader, seq: number): Uint8Array | null {
  const at = reader.slot(seq);
  if (at < 0) return null;
  const off = reader.index[at + LOG_INDEX_OFFSET]!;
  const copy = reader.data.slice(off, off + reader.index[at + LOG_INDEX_LENGTH]!);
  return reader.intact(seq) ? copy : null;
}
