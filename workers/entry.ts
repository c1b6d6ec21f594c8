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

/** Reads entries for one stream: room and client compared as bytes, the frame of one format returned as a view. */
export function createEntryReader(room: string, client: string | null, format: StreamFormat) {
  const roomBytes = ascii(room);
  const clientBytes = client ? ascii(client) : null;
  const formatIndex = FORMAT_INDEX[format];
  const same = (entry: Uint8Array, at: number, bytes: Uint8Array) => {
    if (entry[at] !== bytes.length) return false;
    for (let i = 0; i < bytes.length; i++) if (entry[at + 1 + i] !== bytes[i]) return false;
    return true;
  };
  return {
    /** Null when the entry is for another room; else its kind, id, whether this client sent it, and the frame. */
    read(entry: Uint8Array) {
      if (!same(entry, 1, roomBytes)) return null;
      let at = 2 + roomBytes.length;
      const idLength = entry[at]!;
      const id = String.fromCharCode(...entry.subarray(at + 1, at + 1 + idLength));
      at += 1 + idLength;
      const own = clientBytes !== null && same(entry, at, clientBytes);
      at += 1 + entry[at]!;
      const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
      let start = at + 4 * FORMATS.length;
      for (let i = 0; i < formatIndex; i++) start += view.getUint32(at + 4 * i, true);
      const frame = entry.subarray(start, start + view.getUint32(at + 4 * formatIndex, true));
      return { kind: entry[0]!, id, own, frame };
    },
  };
}
