import { describe, expect, it } from 'bun:test';
import fc from 'fast-check';
import { clientAddress, isHttps, resolveClient } from '../../lib/client-address.ts';
import { formatIp, isTrusted, normalizeAddress, NOTHING_TRUSTED, parseIp, parseTrustList } from '../../lib/ip-address.ts';

const h = (headers: Record<string, string>) => new Headers(headers);
const PROXIES = parseTrustList('127.0.0.1,10.0.0.0/8,::1,fd00::/8');
/** The client's address as a request from `peer` with `headers` gets it behind PROXIES. */
const who = (peer: string, headers: Record<string, string>, trust = PROXIES) => clientAddress(peer, h(headers), trust);

describe('addresses', () => {
  it('reads IPv4, IPv6 and IPv4-mapped IPv6, and writes them canonically', () => {
    expect(normalizeAddress('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(normalizeAddress('2001:0DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeAddress('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeAddress('::')).toBe('::');
    expect(normalizeAddress('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(normalizeAddress('unknown')).toBe('unknown');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4::', '::1.2.3', 'x'.repeat(100)]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('round-trips any address through its canonical text', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
      const bytes = parseIp(ip);
      expect(bytes).not.toBeNull();
      expect(parseIp(formatIp(bytes!))).toEqual(bytes!);
    }), { numRuns: 2000 });
  });
});

describe('the trust list', () => {
  it('trusts addresses and ranges, IPv4 and IPv6, an IPv4-mapped peer as its IPv4', () => {
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '10.1.2.3', '10.255.255.255', '::1', 'fd12:3456::1']) expect(isTrusted(ip, PROXIES), ip).toBe(true);
    for (const ip of ['127.0.0.2', '11.0.0.1', '9.255.255.255', '::2', 'fe00::1', 'unknown', '']) expect(isTrusted(ip, PROXIES), ip).toBe(false);
    const odd = parseTrustList('192.168.1.0/25, 172.16.0.0/12,::ffff:100.64.0.0/106');
    expect(isTrusted('192.168.1.127', odd)).toBe(true);
    expect(isTrusted('192.168.1.128', odd)).toBe(false);
    expect(isTrusted('172.31.255.255', odd)).toBe(true);
    expect(isTrusted('172.32.0.0', odd)).toBe(false);
    expect(isTrusted('100.127.0.1', odd)).toBe(true);
    expect(isTrusted('100.128.0.1', odd)).toBe(false);
    expect(isTrusted('1.2.3.4', parseTrustList('0.0.0.0/0'))).toBe(true);
    expect(isTrusted('2001:db8::1', parseTrustList('0.0.0.0/0'))).toBe(false); // an IPv4 range holds IPv4 only
  });

  it('trusts nothing when empty', () => {
    expect(parseTrustList('')).toBe(NOTHING_TRUSTED);
    expect(parseTrustList('  ')).toBe(NOTHING_TRUSTED);
    expect(who('127.0.0.1', { 'X-Forwarded-For': '203.0.113.7' }, NOTHING_TRUSTED)).toBe('127.0.0.1');
  });

  it('refuses a bad entry, naming it', () => {
    expect(() => parseTrustList('127.0.0.1,localhost')).toThrow('"localhost" is not an IPv4 or IPv6 address or CIDR range');
    expect(() => parseTrustList('10.0.0.0/8x')).toThrow('"10.0.0.0/8x": the prefix length must be 0..32');
    expect(() => parseTrustList('10.0.0.0/')).toThrow('prefix length');
    expect(() => parseTrustList('::/200')).toThrow('"::/200": the prefix length must be 0..128');
    expect(() => parseTrustList('1.2.3.4,')).toThrow('empty entry');
  });
});

describe('the client behind trusted proxies', () => {
  it('takes the peer when it is not trusted, whatever the headers say', () => {
    expect(who('203.0.113.9', { 'X-Forwarded-For': '198.51.100.1' })).toBe('203.0.113.9');
    expect(who('127.0.0.2', { Forwarded: 'for=198.51.100.1' })).toBe('127.0.0.2');
    expect(who('::ffff:203.0.113.9', {})).toBe('203.0.113.9');
  });

  it('takes the first untrusted hop from the right, skipping trusted proxies', () => {
    expect(who('127.0.0.1', { 'X-Forwarded-For': '203.0.113.7' })).toBe('203.0.113.7');
    expect(who('127.0.0.1', { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.0.0.5' })).toBe('203.0.113.7'); // 6.6.6.6: what the client made up
    expect(who('::ffff:127.0.0.1', { 'X-Forwarded-For': '203.0.113.7,10.1.1.1,::1' })).toBe('203.0.113.7');
    expect(who('127.0.0.1', { 'X-Forwarded-For': '10.0.0.9, 10.0.0.5' })).toBe('10.0.0.9'); // all trusted: the leftmost
    expect(who('127.0.0.1', { 'X-Forwarded-For': '::ffff:198.51.100.2' })).toBe('198.51.100.2');
    expect(who('127.0.0.1', { 'X-Forwarded-For': '198.51.100.2:4711' })).toBe('198.51.100.2');
    expect(who('127.0.0.1', { 'X-Forwarded-For': '[2001:db8::7]:4711' })).toBe('2001:db8::7');
  });

  it('reads an IPv6 client behind an IPv4 proxy, and an IPv4 client behind an IPv6 one', () => {
    expect(who('127.0.0.1', { 'X-Forwarded-For': '2001:DB8:0::42' })).toBe('2001:db8::42');
    expect(who('127.0.0.1', { Forwarded: 'for="[2001:db8::42]:5555"' })).toBe('2001:db8::42');
    expect(who('::1', { 'X-Forwarded-For': '198.51.100.3' })).toBe('198.51.100.3');
  });

  it('reads RFC 7239 Forwarded: quoted values, ports, several parameters, any case', () => {
    expect(who('127.0.0.1', { Forwarded: 'for=198.51.100.4' })).toBe('198.51.100.4');
    expect(who('127.0.0.1', { Forwarded: 'For="198.51.100.4:80";proto=https;by=10.0.0.1' })).toBe('198.51.100.4');
    expect(who('127.0.0.1', { Forwarded: 'for=6.6.6.6, for=198.51.100.4;host="a;b,c", for=10.0.0.2' })).toBe('198.51.100.4');
    expect(who('127.0.0.1', { Forwarded: 'for="[::ffff:198.51.100.4]"' })).toBe('198.51.100.4');
    // A stray quote from the client, left of what the proxies appended, swallows nothing.
    expect(who('127.0.0.1', { Forwarded: 'for="x, for=198.51.100.4' })).toBe('198.51.100.4');
  });

  it('prefers X-Forwarded-For when both are there', () => {
    expect(who('127.0.0.1', { Forwarded: 'for=6.6.6.6', 'X-Forwarded-For': '198.51.100.5' })).toBe('198.51.100.5');
  });

  it('ignores what it cannot read, falling back to the peer, and never throws', () => {
    for (const headers of [
      { 'X-Forwarded-For': '' },
      { 'X-Forwarded-For': 'garbage' },
      { 'X-Forwarded-For': '203.0.113.7, nonsense' }, // a trusted proxy wrote nonsense: believe none of it
      { 'X-Forwarded-For': ',,,' },
      { 'X-Forwarded-For': '1.2.3.4:99999999' },
      { 'X-Forwarded-For': '[2001:db8::1' },
      { 'X-Forwarded-For': '"1.2.3.4' },
      { Forwarded: 'for' },
      { Forwarded: 'for=' },
      { Forwarded: '=1.2.3.4' },
      { Forwarded: 'for=unknown' },
      { Forwarded: 'for=_hidden' },
      { Forwarded: 'for="1.2.3.4' },
      { Forwarded: 'for=1.2.3.4;for=5.6.7.8' },
      { Forwarded: 'for="[2001:db8::1]:x"' },
      { Forwarded: 'by=10.0.0.1' },
      { Forwarded: ';;;,,,"""\\' },
      { Forwarded: 'for=\u00e9\u00ff' },
    ] as Record<string, string>[]) {
      expect(who('127.0.0.1', headers), JSON.stringify(headers)).toBe('127.0.0.1');
    }
  });

  it("never names the proxy instead of a client who sends garbage of its own (left of the proxy's hop)", () => {
    expect(who('127.0.0.1', { 'X-Forwarded-For': 'garbage, ,"", 203.0.113.7' })).toBe('203.0.113.7');
    expect(who('127.0.0.1', { Forwarded: 'for="\\, ;;=, for=203.0.113.7' })).toBe('203.0.113.7');
    expect(who('127.0.0.1', { 'X-Forwarded-For': `${'x'.repeat(100_000)}, 203.0.113.7` })).toBe('203.0.113.7');
  });

  it('reads a 100-hop header cheaply: only the last 32 hops and 4 KiB of it', () => {
    const trusted = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const hops = ['203.0.113.7', ...trusted].join(', ');
    // 100 trusted hops: the client is past the 32 looked at, so the leftmost of those stands.
    expect(who('127.0.0.1', { 'X-Forwarded-For': hops })).toBe(trusted[100 - 32]!);
    expect(who('127.0.0.1', { 'X-Forwarded-For': ['203.0.113.7', ...trusted.slice(0, 20)].join(',') })).toBe('203.0.113.7');
    const huge = Array.from({ length: 100_000 }, () => '10.0.0.1').join(',');
    const started = performance.now();
    for (let i = 0; i < 100; i++) who('127.0.0.1', { 'X-Forwarded-For': huge, 'X-Forwarded-Proto': huge, Forwarded: huge });
    expect((performance.now() - started) / 100).toBeLessThan(5); // ms per request, with the Headers made each time
  });

  it('names the peer or a valid canonical address for any header, and never throws', () => {
    const piece = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('10.0.0.1', '::1', 'unknown', '_x', '"', '[', ']', ':', ';', '=', 'for=', '\\', ' '), fc.string({ maxLength: 12 }));
    const value = fc.tuple(fc.array(piece, { maxLength: 40 }), fc.constantFrom(',', ', ', ';', '')).map(([parts, sep]) => parts.join(sep));
    fc.assert(fc.property(value, value, (xff, forwarded) => {
      const headers = new Headers();
      try {
        headers.set('x-forwarded-for', xff);
        headers.set('forwarded', forwarded);
      } catch {
        return; // Headers refuses some characters (CR, LF, NUL): no request could carry them
      }
      const address = clientAddress('127.0.0.1', headers, PROXIES);
      expect(address === '127.0.0.1' || parseIp(address) !== null).toBe(true);
      if (address !== '127.0.0.1') expect(normalizeAddress(address)).toBe(address);
      const fromOutside = clientAddress('198.51.100.9', headers, PROXIES);
      expect(fromOutside).toBe('198.51.100.9');
    }), { numRuns: 3000 });
  });
});

describe('https', () => {
  const url = 'http://chat.example/rooms/main';
  it('counts a https: URL, and a trusted proxy saying https', () => {
    expect(isHttps('https://chat.example/', '198.51.100.9', h({}), PROXIES)).toBe(true);
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-Proto': 'https' }), PROXIES)).toBe(true);
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-Proto': 'HTTPS' }), PROXIES)).toBe(true);
    expect(isHttps(url, '127.0.0.1', h({ Forwarded: 'for=198.51.100.1;proto=https' }), PROXIES)).toBe(true);
    expect(isHttps(url, '127.0.0.1', h({ Forwarded: 'for=198.51.100.1;proto=http, for=10.0.0.1;proto=https' }), PROXIES)).toBe(false); // the client's own hop says http
  });

  it('does not take https from an untrusted peer, nor from garbage', () => {
    expect(isHttps(url, '198.51.100.9', h({ 'X-Forwarded-Proto': 'https' }), PROXIES)).toBe(false);
    expect(isHttps(url, '127.0.0.2', h({ Forwarded: 'proto=https' }), PROXIES)).toBe(false);
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-Proto': 'https' }), NOTHING_TRUSTED)).toBe(false);
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-Proto': 'httpsx' }), PROXIES)).toBe(false);
    expect(isHttps(url, '127.0.0.1', h({}), PROXIES)).toBe(false);
  });

  it("takes the proxy's word over what the client sent before it", () => {
    // The client said https, the proxy appended what it saw: http.
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https, http' }), PROXIES)).toBe(false);
    // Lists as long as each other: the client's hop.
    expect(isHttps(url, '127.0.0.1', h({ 'X-Forwarded-For': '203.0.113.7, 10.0.0.1', 'X-Forwarded-Proto': 'https, http' }), PROXIES)).toBe(true);
  });

  it('reads the address and the scheme together', () => {
    expect(resolveClient(url, '::ffff:127.0.0.1', h({ 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' }), PROXIES)).toEqual({ address: '203.0.113.7', https: true, forwarded: true, peer: '127.0.0.1' });
    expect(resolveClient(url, '127.0.0.1', h({ 'X-Forwarded-For': 'nope' }), PROXIES)).toEqual({ address: '127.0.0.1', https: false, forwarded: false, peer: '127.0.0.1' });
  });
});
