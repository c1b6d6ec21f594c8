/**
 * The binary layout of one event-log entry. The main thread renders an event's SSE frames once, in every
 * format, and writes them with the few fields a Worker filters on; a Worker then copies the frame of its
 * format without parsing or formatting anything, however many Workers read the same entry.
 *
 *   u8 kind | u8 room length | room | u8 id length | id | u8 client length | client | u32 × FORMATS frame lengths | frames
 *
 * Strings are ASCII (validated room, id and client id), lengths little-endian.
 */
import type { StreamFormat } from './protocol.ts';

export const FORMATS: readonly StreamFormat[] = ['json', 'html', 'text'];
export const FORMAT_INDEX: Record<StreamFormat, number> = { json: 0, html: 1, text: 2 };

export const KIND_MESSAGE = 0;
export const KIND_PRESENCE = 1;

const encoder = new TextEncoder();
const ascii = (s: string) => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
};

export interface EntryFields {
  kind: number;
  room: string;
  id: string;
  client: string | null;
  /** One frame per format, in FORMATS order. */
  frames: readonly string[];
}

export function encodeEntry(fields: EntryFields): Uint8Array {
  const room = ascii(fields.room);
  const id = ascii(fields.id);
  const client = ascii(fields.client ?? '');
  const frames = fields.frames.map((f) => encoder.encode(f));
  const head = 4 + room.length + id.length + client.length + 4 * FORMATS.length;
  const out = new Uint8Array(head + frames.reduce((n, f) => n + f.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = fields.kind;
  for (const part of [room, id, client]) {
    out[at++] = part.length;
    out.set(part, at);
    at += part.length;
  }
  for (const f of frames) {
    view.setUint32(at, f.length, true);
    at += 4;
  }
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** What the reader found in one entry; one object per reader, overwritten by every read (no allocation per entry). */
export interface EntryView {
  kind: number;
  /** The id as two numbers: an integer id is (id, 0); a Redis stream id "ms-seq" is (ms, seq). */
  idHi: number;
  idLo: number;
  /** The id has the "ms-seq" form. */
  idDash: boolean;
  /** Sent by this stream's own client. */
  own: boolean;
  /** Where this stream's frame lies in the entry. */
  frameStart: number;
  frameEnd: number;
}

/** Orders two ids given as (hi, lo) pairs, as compareIds orders their strings. */
export const compareIdParts = (aHi: number, aLo: number, bHi: number, bLo: number) => (aHi - bHi) || (aLo - bLo);

/** An id string as (hi, lo), as in EntryView. */
export function idParts(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/**
 * Reads entries for one stream: room and client compared as bytes, the id parsed as numbers and the frame of one
 * format located, all without allocating: a thousand Workers each read every entry.
 */
export function createEntryReader(room: string, client: string | null, format: StreamFormat) {
  const roomBytes = ascii(room);
  const clientBytes = client ? ascii(client) : null;
  const formatIndex = FORMAT_INDEX[format];
  const result: EntryView = { kind: 0, idHi: 0, idLo: 0, idDash: false, own: false, frameStart: 0, frameEnd: 0 };
  const same = (entry: Uint8Array, at: number, bytes: Uint8Array) => {
    if (entry[at] !== bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (entry[at + 1 + i] !== bytes[i]) return false;
    return true;
  };
  const u32 = (entry: Uint8Array, at: number) =>
    (entry[at]! | (entry[at + 1]! << 8) | (entry[at + 2]! << 16)) + entry[at + 3]! * 0x1000000;
  return {
    /** Null when the entry is for another room; else what this stream needs of it (valid until the next read). */
    read(entry: Uint8Array): EntryView | null {
      if (!same(entry, 1, roomBytes)) return null;
      let at = 2 + roomBytes.length;
      const idEnd = at + 1 + entry[at]!;
      let hi = 0;
      let lo = 0;
      let dash = false;
      for (let i = at + 1; i < idEnd; i++) {
        const c = entry[i]!;
        if (c === 45) dash = true; // '-'
        else if (dash) lo = lo * 10 + (c - 48);
        else hi = hi * 10 + (c - 48);
      }
      at = idEnd;
      result.own = clientBytes !== null && same(entry, at, clientBytes);
      at += 1 + entry[at]!;
      let start = at + 4 * FORMATS.length;
      for (let i = 0; i < formatIndex; i++) start += u32(entry, at + 4 * i);
      result.kind = entry[0]!;
      result.idHi = hi;
      result.idLo = lo;
      result.idDash = dash;
      result.frameStart = start;
      result.frameEnd = start + u32(entry, at + 4 * formatIndex);
      return result;
    },
  };
}
