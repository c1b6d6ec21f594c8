/**
 * fast-check generators of hostile HTTP input for threadchat: methods, paths, query strings, headers and bodies
 * that a careless or malicious client might send. Shared by the fuzz tests; nothing here talks to a server.
 */
import fc from 'fast-check';

/** Pieces that try to break out of an SSE `data:` line or a header, or smuggle markup and escapes. */
export const INJECTIONS = [
  '\r', '\n', '\r\n', '\r\n\r\n', '\n\n', '\r\r', 'event: bye', 'id: 999', 'data: x', 'retry: 1', ': comment',
  '\nevent: bye\ndata: {}\n\n', '\r\n\r\nid: 1\r\ndata: evil\r\n\r\n', '\u2028', '\u2029', '\u0085', '\u0000',
  '\u001b[31m', '\u007f', '\u202e', '\ufeff', '\t', '<script>alert(1)</script>', '"><img src=x>', '&amp;', '\\u0000',
  '%0d%0a', '%00', '{"text":"x"}', ' ', '  ', '\ud83d\ude00', 'é', '\u0301', '\ud800', '\udfff', '\ud83d',
];

/** Arbitrary text: full Unicode, single UTF-16 units (lone surrogates too), and the injection pieces, mixed. */
export const hostileText = (maxLength = 40) =>
  fc.array(
    fc.oneof(
      { arbitrary: fc.constantFrom(...INJECTIONS), weight: 3 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 4 }), weight: 3 },
      { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 4 }), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), weight: 1 },
      { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), weight: 3 },
    ),
    { maxLength },
  ).map((parts) => parts.join(''));

/** Markdown that tries to become markup or a script link on the page (views/markdown.ts), mixed with hostile text. */
export const MARKDOWN = [
  '**', '*', '_', '`', '```', '```js\n', '\n```\n', '    ', '- ', '1. ', '# ', '> ', '---', '[x](', ')', '](', '![x](', '<', '>',
  'javascript:alert(1)', 'JaVaScRiPt:', 'jav&#x61;script:', 'data:text/html,', 'https://example.com/', 'mailto:a@b.c', '&lt;', '&#60;',
  '[x](javascript:alert(1))', '<javascript:alert(1)>', '[x]: javascript:alert(1)\n\n[x]', '<img src=x onerror=alert(1)>',
  '[a](https://example.com "t\\" onmouseover=\\"x")', '\n', '\n\n', '\\',
];
export const hostileMarkdown = (maxLength = 30) =>
  fc.array(fc.oneof({ arbitrary: fc.constantFrom(...MARKDOWN), weight: 3 }, { arbitrary: hostileText(4), weight: 1 }), { maxLength })
    .map((parts) => parts.join(''));

const VALID_ROOM = /^[a-z0-9_-]{1,64}$/;
/** Percent-encodes as a browser would: a lone surrogate (not encodable) becomes U+FFFD first. */
const encode = (s: string) => encodeURIComponent(s.toWellFormed());

/** Room path segments: valid ones (so posts land), and every way to get one wrong. */
export const roomSegment = fc.oneof(
  { arbitrary: fc.constantFrom('main', 'a', 'fuzz', 'dev-1', 'x_y', '0'), weight: 6 },
  { arbitrary: fc.stringMatching(VALID_ROOM), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '', 'Main', 'ROOM', 'a b', 'a%20b', '%', '%zz', '%ff', '%e0%a4%a', '%00', '%0d%0a', '%2f', '..', '.', '%2e%2e',
      'é', '%C3%A9', 'a'.repeat(65), 'x'.repeat(5000), '#dev', '?x=1', 'a;b', 'a\\b', '%uD800', 'main%0aevent:%20bye',
    ),
    weight: 3,
  },
  { arbitrary: hostileText(10).map(encode), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 12 }), weight: 2 },
);

/** Client id path segments (a rename's target): valid ones and every way to get one wrong. */
export const clientSegment = fc.oneof(
  { arbitrary: fc.constantFrom('c1', 'c-2', 'C_3', 'nobody'), weight: 4 },
  { arbitrary: fc.constantFrom('', 'a b', 'a%20b', '%', '%zz', '%00', 'x'.repeat(65), '..', 'é', 'a;b', '%0d%0a'), weight: 2 },
  { arbitrary: hostileText(8).map(encode), weight: 1 },
);

const QUERY_KEYS = ['format', 'history', 'lastEventId', 'client', 'name', 'after', 'limit', 'fault', 'room', 'text', 'next', 'token'];
const QUERY_VALUES = [
  'json', 'html', 'text', 'xml', '', '0', '1', '-1', '1000', '1001', '1e3', '0x10', 'NaN', 'Infinity', '99999999999999999999',
  '999999999999999999999', '1-2', '0-0', '00000000000000000001', 'abc', 'throw', 'alice', 'has%20space', '%', '%zz', '%ff%fe',
  '%ED%A0%80', 'a%0d%0aevent:%20bye', 'a%0aid:%20999', '%00', '../..', 'x'.repeat(70),
];

const queryPair = fc.tuple(
  fc.oneof({ arbitrary: fc.constantFrom(...QUERY_KEYS), weight: 4 }, { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 6 }), weight: 1 }),
  fc.oneof(
    { arbitrary: fc.constantFrom(...QUERY_VALUES), weight: 4 },
    { arbitrary: hostileText(12).map(encode), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 10 }), weight: 1 },
  ),
);

/** A query string (with its `?`), or nothing. Raw pieces are left for the URL parser to encode as a browser would. */
export const queryString = fc.oneof(
  { arbitrary: fc.constant(''), weight: 2 },
  { arbitrary: fc.array(queryPair, { minLength: 1, maxLength: 4 }).map((pairs) => '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&')), weight: 5 },
  { arbitrary: fc.constantFrom('?', '??', '?&&', '?=', '?a', '?%', '?history=1&history=2', '?format=json&format=xml'), weight: 1 },
);

const STATIC_FILES = ['htmx.min.js', 'hx-sse.min.js', 'app.js', 'app.css', 'nope.js', '..%2fpackage.json', '%2e%2e', '', 'APP.JS'];

/** Paths over every route, and beside them. */
export const path = fc.oneof(
  { arbitrary: roomSegment.map((r) => `/rooms/${r}/messages`), weight: 8 },
  { arbitrary: roomSegment.map((r) => `/rooms/${r}/events`), weight: 3 },
  { arbitrary: roomSegment.map((r) => `/rooms/${r}/members`), weight: 2 },
  { arbitrary: fc.tuple(roomSegment, clientSegment).map(([r, c]) => `/rooms/${r}/members/${c}`), weight: 2 },
  { arbitrary: roomSegment.map((r) => `/rooms/${r}`), weight: 2 },
  { arbitrary: roomSegment.map((r) => `/debug/rooms/${r}/drop`), weight: 1 },
  { arbitrary: fc.constantFrom(...STATIC_FILES).map((f) => `/static/${f}`), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '/', '/healthz', '/metrics', '/rooms', '/rooms/', '/login', '/logout', '/nope', '//', '/rooms//messages', '/rooms/main/messages/',
      '/rooms/main/messages/x', '/ROOMS/main', '/rooms/main/events/', '/%2e%2e/%2e%2e/etc/passwd', '/static/', '/static/../app.ts',
    ),
    weight: 3,
  },
  { arbitrary: fc.webPath(), weight: 1 },
);

export const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'get', 'post', 'FOO'] as const;

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/ld+json', 'application/x-www-form-urlencoded',
  'multipart/form-data', 'multipart/form-data; boundary=xyz', 'text/plain', 'text/plain; charset=latin1', 'text/html', 'text/',
  'application/xml', 'application/octet-stream', 'image/png', '', ';', 'json', '*/*', 'application/json;;;', ' text/plain ',
];

/** Header values as a client may send them: visible ASCII, Latin-1, tabs (Headers refuses CR, LF and NUL). */
const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'alice', 'a'.repeat(65), 'has space', '1', '0', '5', '99999999999999999999', '1-2', 'x\ty', 'caf\u00e9', '%0d%0a'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 20 }),
);

/**
 * Forwarding headers as a proxy chain, or someone pretending to be one, may send them: addresses of every kind,
 * ports, brackets and quotes, garbage, and hop lists far longer than any chain (the fuzz app trusts its peer).
 */
const hop = fc.oneof(
  fc.ipV4(), fc.ipV6(), fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 99999 })).map(([ip, port]) => `${ip}:${port}`), fc.ipV6().map((ip) => `[${ip}]:443`),
  fc.constantFrom('127.0.0.1', '::ffff:127.0.0.1', 'unknown', '_hidden', '[::1', '::1]', '"', '""', '\\', '1.2.3.4.5', '999.1.1.1', ';', '=', ''),
  headerValue,
);
const hops = fc.oneof(
  fc.array(hop, { maxLength: 8 }).map((list) => list.join(', ')),
  fc.tuple(hop, fc.integer({ min: 33, max: 200 })).map(([h, n]) => Array.from({ length: n }, () => h).join(',')),
);
const forwardedValue = fc.oneof(
  fc.tuple(
    fc.array(fc.tuple(fc.constantFrom('for', 'For', 'proto', 'by', 'host', 'x', ''), fc.oneof(hop, hop.map((h) => `"${h}"`), fc.constantFrom('https', 'http'))), { maxLength: 6 }),
    fc.constantFrom(';', ', ', ','),
  ).map(([pairs, sep]) => pairs.map(([k, v]) => `${k}=${v}`).join(sep)),
  headerValue,
);

/** Extra request headers (lower-case names). */
export const headers = fc.record(
  {
    'content-type': fc.oneof({ arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 5 }, { arbitrary: headerValue, weight: 1 }),
    accept: fc.constantFrom('application/json', 'text/html', 'text/html,application/json', 'text/event-stream', '*/*', ''),
    'x-client-id': headerValue,
    'last-event-id': headerValue,
    'hx-request': fc.constantFrom('true', ''),
    authorization: fc.oneof(fc.constant('Bearer a secret for the fuzz'), headerValue.map((v) => `Bearer ${v}`), headerValue),
    cookie: fc.oneof(fc.constant('__Host-chat_session=secret'), fc.constant('chat_session=secret'), headerValue.map((v) => `chat_session=${v}`)),
    'x-forwarded-for': hops,
    forwarded: forwardedValue,
    'x-forwarded-proto': fc.oneof(fc.constantFrom('https', 'http', 'HTTPS', 'https, http', ''), headerValue),
  },
  { requiredKeys: [] },
);

/** A message-shaped JSON value: objects with name/text/client of every JSON type, and the other shapes. */
const jsonBody = fc.oneof(
  {
    arbitrary: fc.record(
      {
        name: fc.oneof(hostileText(40), fc.jsonValue({ maxDepth: 2 })),
        text: fc.oneof({ arbitrary: hostileText(60), weight: 5 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 }),
        client: fc.oneof(fc.constantFrom('c1', 'has space', '', 'x'.repeat(65)), fc.jsonValue({ maxDepth: 1 })),
        extra: fc.jsonValue({ maxDepth: 2 }),
        __proto__: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    ).map((o) => JSON.stringify(o)),
    weight: 6,
  },
  { arbitrary: fc.json({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.constantFrom('{"text":', '{"text":"x",}', "{'text':'x'}", '{"text":"\\ud800"}', '{"text":"a\\u0000b"}', '[1]', 'null', '"x"', '1', '{}', '{"__proto__":{"text":"p"}}', '{"text":"x","text":"y"}'), weight: 2 },
);

const formBody = fc.array(
  fc.tuple(fc.constantFrom('name', 'text', 'client', 'x', '', 'te%78t', 'name='), fc.oneof(hostileText(40).map(encode), fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff', '+', '%2B', 'a=b=c'))),
  { maxLength: 4 },
).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

/** Request bodies, described so a failing case prints readably; `buildBody` turns one into bytes or a FormData. */
export type BodySpec =
  | { kind: 'none' }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; value: Uint8Array<ArrayBuffer> }
  | { kind: 'repeat'; unit: string; times: number }
  | { kind: 'multipart'; fields: [string, string | { file: string }][] };

export const body: fc.Arbitrary<BodySpec> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  { arbitrary: jsonBody.map((value) => ({ kind: 'string' as const, value })), weight: 6 },
  { arbitrary: formBody.map((value) => ({ kind: 'string' as const, value })), weight: 3 },
  { arbitrary: hostileText(80).map((value) => ({ kind: 'string' as const, value })), weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((value) => ({ kind: 'bytes' as const, value })), weight: 2 },
  {
    // Invalid UTF-8: lone continuation bytes, truncated sequences, overlongs, surrogates encoded in UTF-8.
    arbitrary: fc.constantFrom([0xff], [0xc0, 0xaf], [0xe0, 0xa4], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xfe, 0xff]).chain((bad) =>
      fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => ({
        kind: 'bytes' as const,
        value: new Uint8Array([...new TextEncoder().encode(a), ...bad, ...new TextEncoder().encode(b)]),
      }))),
    weight: 2,
  },
  {
    arbitrary: fc.record({ unit: fc.constantFrom('x', '"', '\u00e9', '\ud83d\ude00', '\n', 'text=', '%'), times: fc.constantFrom(4000, 4001, 16_000, 40_000, 70_000) })
      .map(({ unit, times }) => ({ kind: 'repeat' as const, unit, times })),
    weight: 1,
  },
  {
    arbitrary: fc.array(
      fc.tuple(fc.constantFrom('name', 'text', 'client', 'other'), fc.oneof(hostileText(40), hostileText(10).map((file) => ({ file })))),
      { maxLength: 4 },
    ).map((fields) => ({ kind: 'multipart' as const, fields })),
    weight: 2,
  },
);

export function buildBody(spec: BodySpec): BodyInit | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'string':
      return spec.value;
    case 'bytes':
      return spec.value;
    case 'repeat':
      return spec.unit.repeat(spec.times);
    case 'multipart': {
      const form = new FormData();
      for (const [k, v] of spec.fields) form.append(k, typeof v === 'string' ? v : new File([v.file], 'x.txt'));
      return form;
    }
  }
}

export interface RequestSpec {
  method: (typeof METHODS)[number];
  path: string;
  query: string;
  headers: Record<string, string>;
  body: BodySpec;
}

const anyRequest: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('POST' as const), weight: 6 }, { arbitrary: fc.constantFrom(...METHODS), weight: 4 }),
  path,
  query: queryString,
  headers,
  body,
});

/** A post that gets past routing and content negotiation, so hostile names and texts reach validation and the store. */
const plausiblePost: fc.Arbitrary<RequestSpec> = fc.record({
  room: fc.constantFrom('main', 'fuzz', 'dev-1'),
  name: hostileText(40),
  text: hostileText(80),
  as: fc.constantFrom('json', 'form', 'text', 'curl'),
  client: fc.option(fc.constantFrom('c1', 'c-2', 'C_3'), { nil: undefined }),
}).map(({ room, name, text, as, client }) => {
  const h: Record<string, string> = client ? { 'x-client-id': client } : {};
  const query = as === 'text' || as === 'curl' ? `?name=${encode(name)}` : '';
  const spec = (type: string, value: string): RequestSpec =>
    ({ method: 'POST', path: `/rooms/${room}/messages`, query, headers: { ...h, 'content-type': type }, body: { kind: 'string', value } });
  switch (as) {
    case 'json':
      return spec('application/json', JSON.stringify({ name, text }));
    case 'form':
      return spec('application/x-www-form-urlencoded', `name=${encode(name)}&text=${encode(text)}`);
    case 'text':
      return spec('text/plain; charset=utf-8', text);
    case 'curl':
      return spec('application/x-www-form-urlencoded', text); // what `curl -d TEXT` sends
  }
});

/** A stream request that mostly gets through, with a hostile ?name= (shown in presence) and odd positions. */
const plausibleStream: fc.Arbitrary<RequestSpec> = fc.record({
  room: fc.constantFrom('main', 'fuzz', 'dev-1'),
  format: fc.constantFrom('json', 'html', 'text'),
  name: hostileText(12),
  history: fc.option(fc.constantFrom('0', '1', '5', '1000'), { nil: undefined }),
  position: fc.option(fc.constantFrom('0', '1', '3', '99999999999999999999', '1-2', '0-0'), { nil: undefined }),
  inHeader: fc.boolean(),
}).map(({ room, format, name, history, position, inHeader }): RequestSpec => ({
  method: 'GET',
  path: `/rooms/${room}/events`,
  query: `?format=${format}&name=${encode([...name].slice(0, 32).join(''))}${history ? `&history=${history}` : ''}${position && !inHeader ? `&lastEventId=${position}` : ''}`,
  headers: position && inHeader ? { 'last-event-id': position } : {},
  body: { kind: 'none' },
}));

/** A rename (PUT /rooms/:room/members/:client) that gets past routing, with a hostile name in every body shape. */
const plausibleRename: fc.Arbitrary<RequestSpec> = fc.record({
  room: fc.constantFrom('main', 'fuzz'),
  client: fc.constantFrom('c1', 'c-2', 'nobody'),
  name: hostileText(40),
  as: fc.constantFrom('json', 'form', 'text', 'bad-json', 'big'),
}).map(({ room, client, name, as }): RequestSpec => {
  const spec = (type: string, body: BodySpec): RequestSpec =>
    ({ method: 'PUT', path: `/rooms/${room}/members/${client}`, query: '', headers: { 'content-type': type }, body });
  switch (as) {
    case 'json':
      return spec('application/json', { kind: 'string', value: JSON.stringify({ name }) });
    case 'form':
      return spec('application/x-www-form-urlencoded', { kind: 'string', value: `name=${encode(name)}` });
    case 'text':
      return spec('text/plain', { kind: 'string', value: name });
    case 'bad-json':
      return spec('application/json', { kind: 'string', value: `{"name":${JSON.stringify(name)}` });
    case 'big':
      return spec('text/plain', { kind: 'repeat', unit: 'n', times: 2000 });
  }
});

export const request: fc.Arbitrary<RequestSpec> = fc.oneof(
  { arbitrary: anyRequest, weight: 12 },
  { arbitrary: plausiblePost, weight: 4 },
  { arbitrary: plausibleStream, weight: 1 },
  { arbitrary: plausibleRename, weight: 1 },
);
