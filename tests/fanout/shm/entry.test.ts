/**
 * The log entry layout (fanout/shm/entry.ts): what the main thread encodes is what a stream Worker reads back
 * with integer reads only, the frames by their [start, end) fields and the id by its (hi, lo) numbers.
 */
import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import {
  compareIdParts, encodeEntry, FORMAT_INDEX, FORMATS, idHi, idParts, KIND_MESSAGE, KIND_PRESENCE, META_CLIENT,
  META_FRAMES, META_ID_DASH, META_ID_HIGH, META_ID_LO, META_ID_LOW, META_INTS, META_KIND,
} from '../../../fanout/shm/entry.ts';
import { LOG_INDEX_FIELDS, LOG_INDEX_META, LOG_INDEX_OFFSET } from '../../../fanout/shm/protocol.ts';
import { createLogReader, createLogWriter } from '../../../fanout/shm/shared-log.ts';
import { compareIds } from '../../../store/types.ts';

const decoder = new TextDecoder();
/** Format f's frame, cut out of the entry by its meta fields as the Worker does. */
const frameOf = (bytes: Uint8Array, meta: ArrayLike<number>, f: number) =>
  decoder.decode(bytes.subarray(meta[META_FRAMES + 2 * f]!, meta[META_FRAMES + 2 * f + 1]!));
/** The id as the Worker reads it from the meta fields. */
const idOf = (meta: ArrayLike<number>) => ({
  hi: idHi(meta[META_ID_HIGH]!, meta[META_ID_LOW]!),
  lo: meta[META_ID_LO]!,
  dash: meta[META_ID_DASH] === 1,
});

describe('log entry encoding', () => {
  it('lays the frames end to end and gives each format its own [start, end), counted in bytes', () => {
    const frames = ['id: 1\ndata: {"text":"ça va 😀"}\n\n', 'id: 1\ndata: <p>ça va 😀</p>\n\n', 'id: 1\ndata: ça va 😀\n\n', 'ça va 😀\n', '{"event":"message","text":"ça va 😀"}\n'];
    const { bytes, meta } = encodeEntry({ kind: KIND_MESSAGE, id: '1', clientNo: 3, frames });
    expect(decoder.decode(bytes)).toBe(frames.join(''));
    expect(meta.length).toBe(META_INTS);
    for (const format of FORMATS) expect(frameOf(bytes, meta, FORMAT_INDEX[format])).toBe(frames[FORMAT_INDEX[format]]!);
    expect(meta[META_FRAMES]).toBe(0);
    expect(meta[META_FRAMES + 2 * FORMATS.length - 1]).toBe(bytes.length);
  });

  it("fits an entry's fields in its index slot, whatever the number of formats", () => {
    expect(LOG_INDEX_META + META_INTS).toBeLessThanOrEqual(LOG_INDEX_FIELDS);
  });

  it('keeps FORMAT_INDEX in step with FORMATS', () => {
    FORMATS.forEach((format, i) => expect(FORMAT_INDEX[format]).toBe(i));
  });

  it('records the kind and the sender\'s client number', () => {
    const message = encodeEntry({ kind: KIND_MESSAGE, id: '7', clientNo: 12, frames: ['a', 'b', 'c'] }).meta;
    expect([message[META_KIND], message[META_CLIENT]]).toEqual([KIND_MESSAGE, 12]);
    const presence = encodeEntry({ kind: KIND_PRESENCE, id: '', clientNo: -1, frames: ['a', 'b', 'c'] }).meta;
    expect([presence[META_KIND], presence[META_CLIENT]]).toEqual([KIND_PRESENCE, -1]);
  });

  it('encodes an integer id as (id, 0) and a Redis id "ms-seq" as (ms, seq), with the dash flag', () => {
    const encoded = (id: string) => idOf(encodeEntry({ kind: KIND_MESSAGE, id, clientNo: -1, frames: ['', '', ''] }).meta);
    expect(encoded('42')).toEqual({ hi: 42, lo: 0, dash: false });
    expect(encoded('1764780000000-7')).toEqual({ hi: 1764780000000, lo: 7, dash: true });
    expect(encoded('')).toEqual({ hi: 0, lo: 0, dash: false }); // presence: no id
  });

  it('keeps an id past 2^31 whole by splitting it in two Int32 fields (ids begin at ms × 1000)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), (hi, lo, dash) => {
        const id = dash ? `${hi}-${lo}` : String(hi);
        const { meta } = encodeEntry({ kind: KIND_MESSAGE, id, clientNo: -1, frames: ['', '', ''] });
        expect(idOf(meta)).toEqual({ hi, lo: dash ? lo : 0, dash });
      }),
    );
    const { meta } = encodeEntry({ kind: KIND_MESSAGE, id: '1764780000000123', clientNo: -1, frames: ['', '', ''] });
    expect(meta[META_ID_HIGH]).toBeGreaterThan(0); // the split is really used at today's ids
    expect(idOf(meta).hi).toBe(1764780000000123);
  });

  it('reads back the same through the log index, where the Worker finds the fields', () => {
    const writer = createLogWriter({ indexSlots: 4, dataBytes: 1024 });
    const reader = createLogReader(writer.buffer, writer.sizes);
    writer.append(new Uint8Array(5)); // the entry does not start at 0: frame fields are relative to the entry
    const frames = ['json-frame', 'html-frame!', 'text', 'raw line', 'ndjson line'];
    const entry = encodeEntry({ kind: KIND_MESSAGE, id: '1764780000000-9', clientNo: 4, frames });
    const seq = writer.append(entry.bytes, 0, entry.meta);
    const at = reader.slot(seq);
    const fields = reader.index.subarray(at + LOG_INDEX_META, at + LOG_INDEX_META + META_INTS);
    const data = reader.data.subarray(reader.index[at + LOG_INDEX_OFFSET]!);
    expect(fields[META_CLIENT]).toBe(4);
    expect(idOf(fields)).toEqual({ hi: 1764780000000, lo: 9, dash: true });
    FORMATS.forEach((_, f) => expect(frameOf(data, fields, f)).toBe(frames[f]!));
  });
});

describe('id comparison', () => {
  it('idParts splits an id as the META_ID fields hold it', () => {
    expect(idParts('12')).toEqual([12, 0]);
    expect(idParts('1764780000000-3')).toEqual([1764780000000, 3]);
  });

  it('compareIdParts orders ids as compareIds orders their strings', () => {
    const ids = ['0', '1', '2', '9', '10', '99', '100', '1764780000000000', '1764780000000001', '0-1', '1-0', '1-1', '1-10', '2-0',
      '1764780000000-0', '1764780000000-1', '1764780000000-10', '1764780000001-0'];
    const sign = (n: number) => Math.sign(n);
    for (const a of ids) {
      for (const b of ids) {
        const [aHi, aLo] = idParts(a);
        const [bHi, bLo] = idParts(b);
        expect(`${a} vs ${b}: ${sign(compareIdParts(aHi, aLo, bHi, bLo))}`).toBe(`${a} vs ${b}: ${sign(compareIds(a, b))}`);
      }
    }
  });

  it('tells a later id within the same millisecond from an earlier one, and an equal id from both', () => {
    expect(compareIdParts(5, 2, 5, 1)).toBeGreaterThan(0);
    expect(compareIdParts(5, 1, 5, 2)).toBeLessThan(0);
    expect(compareIdParts(5, 1, 5, 1)).toBe(0);
    expect(compareIdParts(6, 0, 5, 9)).toBeGreaterThan(0); // hi decides before lo
  });
});
