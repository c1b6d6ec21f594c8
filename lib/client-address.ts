/**
 * The client's real address behind trusted reverse proxies (--trust-proxy): pure functions over the peer's
 * address, the request's headers and the trust list. Never throws on what a request carries: a malformed value
 * is ignored and the peer's address stands.
 *
 * Which header: `X-Forwarded-For` when the request has one, else RFC 7239 `Forwarded` (its `for=`). Nearly every
 * proxy (nginx, HAProxy, Caddy, Traefik, Envoy, cloud load balancers) appends to X-Forwarded-For and passes a
 * client's own `Forwarded` through, so reading `Forwarded` first would let a client name its own address. Behind
 * a proxy that sets only `Forwarded`, have it drop X-Forwarded-For.
 *
 * The walk: only when the peer is trusted, the header's hops from the right, each trusted one skipped; the first
 * untrusted hop is the client; when every hop looked at is trusted, the leftmost of them. A hop that cannot be
 * read (garbage, `unknown`, an obfuscated `_name`) before the client is found makes the header count for nothing.
 * The work is bounded: the last MAX_HEADER_CHARS characters of a header, its last MAX_HOPS hops.
 */
import { formatIp, isTrusted, isV4Text, normalizeAddress, parseIp, type TrustList } from './ip-address.ts';

/** Hops looked at, from the right: more proxies than any real chain has. */
export const MAX_HOPS = 32;
/** Characters of a header looked at, from its end. */
export const MAX_HEADER_CHARS = 4096;

/** What the request's headers are read through (a fetch `Headers` fits). */
export interface HeaderSource {
  get(name: string): string | null;
}

// ---------------------------------------------------------------------------------------------- the headers

/**
 * The last `max` comma-separated parts of a header value (at most MAX_HEADER_CHARS of its end), right to left,
 * splitting only on commas outside double quotes (a backslash escapes inside them). Read from the right, so a
 * stray quote in what a client wrote to the left cannot swallow what the proxies appended.
 */
function partsFromRight(value: string, max = MAX_HOPS): string[] {
  const cut = value.length > MAX_HEADER_CHARS;
  const text = cut ? value.slice(value.length - MAX_HEADER_CHARS) : value;
  const parts: string[] = [];
  let end = text.length;
  let quoted = false;
  for (let i = text.length - 1; i >= 0 && parts.length < max; i--) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let slashes = 0;
      while (quoted && i - 1 - slashes >= 0 && text.charCodeAt(i - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) quoted = !quoted;
    } else if (ch === 0x2c /* , */ && !quoted) {
      parts.push(text.slice(i + 1, end));
      end = i;
    }
  }
  // The leftmost piece is whole only when nothing was cut off before it.
  if (parts.length < max && !cut) parts.push(text.slice(0, end));
  return parts;
}

/** A quoted-string's content (escapes undone), a token as it is; null for an unterminated quote. */
function unquote(value: string): string | null {
  if (!value.startsWith('"')) return value.includes('"') ? null : value;
  if (value.length < 2 || !value.endsWith('"')) return null;
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    let ch = value[i]!;
    if (ch === '\\') {
      if (i + 1 >= value.length - 1) return null;
      ch = value[++i]!;
    } else if (ch === '"') return null;
    out += ch;
  }
  return out;
}

/**
 * One hop's node as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`, `[2001:db8::1]:80`, a bare
 * IPv6 (lenient), `::ffff:1.2.3.4`. Its 16 bytes, or null (garbage, `unknown`, `_obfuscated`).
 */
export function parseNode(text: string): Uint8Array | null {
  const node = text.trim();
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close < 0) return null;
    const after = node.slice(close + 1);
    if (after !== '' && !/^:\d{1,5}$/.test(after)) return null;
    return parseIp(node.slice(1, close));
  }
  const colons = node.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = node.split(':') as [string, string];
    return /^\d{1,5}$/.test(port) && isV4Text(host) ? parseIp(host) : null;
  }
  return parseIp(node);
}

/** A Forwarded element's parameters (names lower-cased), or null when malformed (a repeated name too). */
function forwardedPairs(element: string): Map<string, string> | null {
  const pairs = new Map<string, string>();
  // Within one element a semicolon inside quotes is part of a value.
  let start = 0;
  let quoted = false;
  const pieces: string[] = [];
  for (let i = 0; i < element.length; i++) {
    const ch = element[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ';' && !quoted) {
      pieces.push(element.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return null;
  pieces.push(element.slice(start));
  for (const piece of pieces) {
    const text = piece.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq <= 0) return null;
    const name = text.slice(0, eq).trim().toLowerCase();
    const value = unquote(text.slice(eq + 1).trim());
    if (value === null || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || pairs.has(name)) return null;
    pairs.set(name, value);
  }
  return pairs;
}

/** One hop of a forwarding header, right to left: its address bytes (null: unreadable) and the scheme it names. */
interface Hop {
  address: Uint8Array | null;
  proto: string | null;
}

function forwardedForHops(xff: string): Hop[] {
  return partsFromRight(xff).map((part) => {
    const value = unquote(part.trim());
    return { address: value === null ? null : parseNode(value), proto: null };
  });
}

function forwardedHops(forwarded: string): Hop[] {
  return partsFromRight(forwarded).map((element) => {
    const pairs = forwardedPairs(element);
    const node = pairs?.get('for');
    return { address: node === undefined ? null : parseNode(node), proto: pairs?.get('proto')?.toLowerCase() ?? null };
  });
}

/** Where the client was found: its hop's address, and that hop's index from the right among `hops`. */
function walk(hops: Hop[], trust: TrustList): { address: Uint8Array; index: number } | null {
  let last: { address: Uint8Array; index: number } | null = null;
  for (let i = 0; i < hops.length; i++) {
    const address = hops[i]!.address;
    if (!address) return null;
    last = { address, index: i };
    if (!isTrusted(address, trust)) return last;
  }
  return last;
}

/** What the proxies say of a request from a trusted peer. */
export interface Forwarding {
  /** The client's address, canonical; null when the header names none that can be read. */
  address: string | null;
  /** The scheme the client used, when a proxy says so ('https', 'http'), else null. */
  proto: string | null;
}

/** What the headers say, from a peer already known to be trusted; null when they say nothing readable. */
export function readForwarding(headers: HeaderSource, trust: TrustList): Forwarding | null {
  const xff = headers.get('x-forwarded-for');
  const forwarded = xff === null ? headers.get('forwarded') : null;
  const hops = xff !== null ? forwardedForHops(xff) : forwarded !== null ? forwardedHops(forwarded) : [];
  const found = walk(hops, trust);
  const address = found ? formatIp(found.address) : null;
  // X-Forwarded-Proto: the entry beside the client's X-Forwarded-For entry when the two lists are as long,
  // else its last one (the proxy nearest us). A Forwarded element's own proto= comes first.
  let proto = forwarded !== null && found ? hops[found.index]!.proto : null;
  const xfp = proto === null ? headers.get('x-forwarded-proto') : null;
  if (xfp !== null) {
    const protos = partsFromRight(xfp).map((p) => p.trim().toLowerCase());
    const aligned = xff !== null && found !== null && protos.length === partsFromRight(xff, MAX_HOPS + 1).length;
    proto = (aligned ? protos[found.index] : protos[0]) ?? null;
  }
  if (address === null && proto === null) return null;
  return { address, proto };
}

/**
 * The client's address: the peer's (canonical), unless the peer is trusted and its forwarding header names a
 * client (see the walk above).
 */
export function clientAddress(peer: string, headers: HeaderSource, trust: TrustList): string {
  if (!isTrusted(peer, trust)) return normalizeAddress(peer);
  return readForwarding(headers, trust)?.address ?? normalizeAddress(peer);
}

/**
 * Whether the client reached us over https: the request's own URL says https:, or a trusted peer says so
 * (`X-Forwarded-Proto: https`, or `proto=https` in the client's `Forwarded` element).
 */
export function isHttps(url: string, peer: string, headers: HeaderSource, trust: TrustList): boolean {
  if (url.startsWith('https:')) return true;
  if (!isTrusted(peer, trust)) return false;
  return readForwarding(headers, trust)?.proto === 'https';
}

/**
 * Both at once, reading the headers once: what the middleware keeps for a request. `peer` is the peer's own
 * address, canonical; `forwarded` says whether `address` came from a trusted proxy's header.
 */
export function resolveClient(url: string, peer: string, headers: HeaderSource, trust: TrustList): { address: string; https: boolean; forwarded: boolean; peer: string } {
  const direct = normalizeAddress(peer);
  const viaHttps = url.startsWith('https:');
  if (!isTrusted(peer, trust)) return { address: direct, https: viaHttps, forwarded: false, peer: direct };
  const said = readForwarding(headers, trust);
  const address = said?.address ?? null;
  return { address: address ?? direct, https: viaHttps || said?.proto === 'https', forwarded: address !== null, peer: direct };
}
