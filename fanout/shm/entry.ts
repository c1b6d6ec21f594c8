/**
 * The layout of one event-log entry. The main thread renders an event's SSE frames once, in every format, and
 * lays them end to end in the log's data ring; what a Worker filters on goes beside them as Int32 fields in the
 * entry's index slot (META_* below). A Worker then decides with a few integer reads and copies its format's
 * frame with one memcpy: no byte loop, no parsing. That matters because each Worker's code stays in
 * JavaScriptCore's slowest tier for a long time (every Worker warms its own JIT), where a 200-byte copy loop
 * costs more than the wake itself (bench/wake.ts measures the wake).
 */
import type { StreamFormat } from '../../views/frames.ts';

export const FORMATS: readonly StreamFormat[] = ['json', 'html', 'text', 'raw', 'ndjson'];
export const FORMAT_INDEX: Record<StreamFormat, number> = { json: 0, html: 1, text: 2, raw: 3, ndjson: 4 };

export const KIND_MESSAGE = 0;
export const KIND_PRESENCE = 1;
/** Someone is typing: ephemeral, never stored, and kept off the typist's own streams like a message. */
export const KIND_TYPING = 2;
/** A status snapshot (fanout/status-sampler.ts), for the status room's streams only. */
export const KIND_STATUS = 3;
/** A message was deleted: every stream of its room gets it, the deleter's too. */
export const KIND_DELETE = 4;
/** A message was edited: every stream of its room gets it, the editor's too. */
export const KIND_EDIT = 5;

// ---- Metadata of an entry, Int32 fields after the index slot's own [seq, offset, length, roomWord] ----
export const META_KIND = 0;
/** The sender's client number (a number the hub gives each client id that has a stream here), or -1. */
export const META_CLIENT = 1;
/**
 * The message id as two numbers (hi, lo): an integer id is (id, 0); a Redis stream id "ms-seq" is (ms, seq). hi
 * can pass 2^31 (milliseconds since 1970 do), so it is kept in two fields: hi = HIGH * 2^30 + LOW.
 */
export const META_ID_HIGH = 2;
export const META_ID_LOW = 3;
export const META_ID_LO = 4;
/** 1 when the id has the "ms-seq" form. */
export const META_ID_DASH = 5;
/** Format f's frame is bytes [start, end) of the entry: start at META_FRAMES + 2f, end right after. */
export const META_FRAMES = 6;
const HI_SPLIT = 2 ** 30;
/** The id's hi number from its two fields. */
export const idHi = (high: number, low: number) => high * HI_SPLIT + low;
export const META_INTS = META_FRAMES + 2 * FORMATS.length;

const encoder = new TextEncoder();

export interface EntryFields {
  kind: number;
  id: string;
  /** The sender's client number (-1: none, or no stream of that client here). */
  clientNo: number;
  /** One frame per format, in FORMATS order. */
  frames: readonly string[];
}

export interface EncodedEntry {
  bytes: Uint8Array;
  meta: Int32Array;
}

export function encodeEntry(fields: EntryFields): EncodedEntry {
  const frames = fields.frames.map((f) => encoder.encode(f));
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  const meta = new Int32Array(META_INTS);
  const [hi, lo] = fields.id ? idParts(fields.id) : [0, 0];
  meta[META_KIND] = fields.kind;
  meta[META_CLIENT] = fields.clientNo;
  meta[META_ID_HIGH] = Math.floor(hi / HI_SPLIT);
  meta[META_ID_LOW] = hi % HI_SPLIT;
  meta[META_ID_LO] = lo;
  meta[META_ID_DASH] = fields.id.includes('-') ? 1 : 0;
  let at = 0;
  frames.forEach((f, i) => {
    bytes.set(f, at);
    meta[META_FRAMES + 2 * i] = at;
    meta[META_FRAMES + 2 * i + 1] = (at += f.length);
  });
  return { bytes, meta };
}

/** Orders two ids given as (hi, lo) pairs, as compareIds orders their strings. */
export const compareIdParts = (aHi: number, aLo: number, bHi: number, bLo: number) => (aHi - bHi) || (aLo - bLo);

/** An id string as (hi, lo), as in the META_ID fields (both below 2^53). */
export function idParts(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}
