/**
 * IP addresses and the --trust-proxy list: IPv4 and IPv6 parsed to 16 bytes (IPv4 as IPv4-mapped IPv6), CIDR
 * ranges, canonical text. Pure, and never throws on what a request carries.
 */

/** One entry of the trust list: 16 bytes (IPv4 as ::ffff:a.b.c.d) and how many leading bits must match. */
export interface Range {
  bytes: Uint8Array;
  bits: number;
}

/** Parsed --trust-proxy: addresses and CIDR ranges. Empty: nothing is trusted. */
export interface TrustList {
  readonly ranges: readonly Range[];
}

export const NOTHING_TRUSTED: TrustList = Object.freeze({ ranges: Object.freeze([]) });

// ---------------------------------------------------------------------------------------------- addresses

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** Whether `text` is a dotted IPv4 address. */
export const isV4Text = (text: string) => V4.test(text);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 16 bytes of an IPv4 (as IPv4-mapped IPv6) or IPv6 address, or null. No zone, no brackets, no port. */
export function parseIp(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null;
  const v4 = V4.exec(text);
  if (v4) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    for (let i = 0; i < 4; i++) out[12 + i] = Number(v4[i + 1]);
    return out;
  }
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const tail = V4.exec(piece);
        if (!tail) return null;
        out.push((Number(tail[1]) << 8) | Number(tail[2]), (Number(tail[3]) << 8) | Number(tail[4]));
      } else if (HEX_GROUP.test(piece)) out.push(parseInt(piece, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

const isMappedV4 = (b: Uint8Array) => b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0);

/** The canonical text of an address: dotted IPv4 (IPv4-mapped IPv6 too), else RFC 5952 IPv6. */
export function formatIp(b: Uint8Array): string {
  if (isMappedV4(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // The longest run of zero groups (two or more; the first of equal runs) becomes "::".
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  return bestAt < 0 ? hex(0, 8) : `${hex(0, bestAt)}::${hex(bestAt + bestLength, 8)}`;
}

/**
 * What per-address limits count a client by: an IPv4 address itself, an IPv6 address by its /64 (`2001:db8::/64`).
 * One IPv6 subscriber is usually handed a whole /64, so counting each address would let one person be billions.
 */
export function limitKey(address: string): string {
  const bytes = parseIp(address);
  if (!bytes || isMappedV4(bytes)) return address;
  const prefix = new Uint8Array(16);
  prefix.set(bytes.subarray(0, 8));
  return `${formatIp(prefix)}/64`;
}

/** An address as a socket reports it (`::ffff:1.2.3.4`, `fe80::1%eth0`), in canonical text; unreadable: as given. */
export function normalizeAddress(text: string): string {
  const zone = text.indexOf('%');
  const bytes = parseIp(zone >= 0 ? text.slice(0, zone) : text);
  return bytes ? formatIp(bytes) : text;
}

// ---------------------------------------------------------------------------------------------- the trust list

/** Why one --trust-proxy entry cannot be read, or null. */
function parseRange(entry: string): Range | string {
  const slash = entry.indexOf('/');
  const bytes = parseIp(slash >= 0 ? entry.slice(0, slash) : entry);
  if (!bytes) return `"${entry}" is not an IPv4 or IPv6 address or CIDR range`;
  const v4 = !entry.slice(0, slash >= 0 ? slash : undefined).includes(':');
  const max = v4 ? 32 : 128;
  let bits = 128;
  if (slash >= 0) {
    const length = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(length) || Number(length) > max) return `"${entry}": the prefix length must be 0..${max}`;
    bits = Number(length) + (v4 ? 96 : 0);
  }
  return { bytes, bits };
}

/** Reads a --trust-proxy list (`127.0.0.1,10.0.0.0/8,::1`); throws an Error naming the first bad entry. */
export function parseTrustList(text: string): TrustList {
  if (text.trim() === '') return NOTHING_TRUSTED;
  const ranges: Range[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') throw new Error('an empty entry (two commas, or one at an end) is not an address');
    const range = parseRange(entry);
    if (typeof range === 'string') throw new Error(range);
    ranges.push(range);
  }
  return Object.freeze({ ranges: Object.freeze(ranges) });
}

/** What is wrong with a --trust-proxy list, or null (for lib/config.ts). */
export function trustListProblem(text: string): string | null {
  try {
    parseTrustList(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function inRange(b: Uint8Array, range: Range): boolean {
  const whole = range.bits >> 3;
  for (let i = 0; i < whole; i++) if (b[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (b[whole]! & mask) === (range.bytes[whole]! & mask);
}

/** Whether an address (16 bytes, or text as a socket reports it) is in the trust list. */
export function isTrusted(address: Uint8Array | string, trust: TrustList): boolean {
  if (trust.ranges.length === 0) return false;
  const bytes = typeof address === 'string' ? parseIp(address.replace(/%.*$/, '')) : address;
  return bytes !== null && trust.ranges.some((r) => inRange(bytes, r));
}
