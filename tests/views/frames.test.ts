import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ChatMessage, Presence } from '../../lib/chat-types.ts';
import { byeFrame, editFrame, messageFrame, presenceFrame, resetFrame, sseFrame, type EndReason, type StreamFormat } from '../../views/frames.ts';
import { renderMarkdown } from '../../views/markdown.ts';
import { renderMessage } from '../../views/message.tsx';

// The text format shows the server's local time: pinned to UTC here, so the lines below are exact (and given
// back after, as test files share one process).
const zone = process.env.TZ;
beforeAll(() => void (process.env.TZ = 'UTC'));
afterAll(() => void (zone === undefined ? delete process.env.TZ : (process.env.TZ = zone)));

/** What an EventSource makes of `stream`: its events, with the field lines joined back together. */
function parse(stream: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(stream);
  return events;
}

const FORMATS: readonly StreamFormat[] = ['json', 'html', 'text'];
// 2026-12-03T09:05:07Z
const message: ChatMessage = { id: '1764752707000-0', room: 'main', name: 'ann', text: 'first line\nsecond <b>line</b>', ts: Date.UTC(2026, 11, 3, 9, 5, 7), client: 'secret-client' };
const presence = (over: Partial<Presence> = {}): Presence => ({ room: 'main', members: ['ann', 'bob'], count: 2, change: null, ...over });

describe('sseFrame', () => {
  it('writes event, then id, then one data field per line, then a blank line', () => {
    expect(sseFrame('hello')).toBe('data: hello\n\n');
    expect(sseFrame('hello', { id: '7' })).toBe('id: 7\ndata: hello\n\n');
    expect(sseFrame('{}', { event: 'bye', id: '7' })).toBe('event: bye\nid: 7\ndata: {}\n\n');
    expect(sseFrame('a\nb\n\nc')).toBe('data: a\ndata: b\ndata: \ndata: c\n\n');
    expect(sseFrame('')).toBe('data: \n\n');
  });

  it('gives a parser back exactly the data it was given, however many lines, with no event a line could start', () => {
    for (const data of ['one', 'two\nlines', 'trailing\n', '\nleading', 'event: bye\nid: 9\nretry: 1\n: comment', '  spaced  ', 'data: nested']) {
      const events = parse(sseFrame(data, { id: '5' }));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ id: '5', data });
      expect(events[0]!.event).toBeUndefined();
    }
  });
});

describe('messageFrame', () => {
  it('json: an unnamed event with the id, and the message without the client id', () => {
    const frame = messageFrame(message, 'json');
    expect(frame).toBe(`id: ${message.id}\ndata: ${JSON.stringify({ id: message.id, room: 'main', name: 'ann', text: message.text, ts: message.ts })}\n\n`);
    expect(frame).not.toContain('secret-client');
  });

  it('html: the message markup, escaped, one data line per line of it', () => {
    const frame = messageFrame(message, 'html');
    expect(frame).toStartWith(`id: ${message.id}\ndata: <li `);
    expect(frame).toContain('\ndata: second &lt;b&gt;line&lt;/b&gt;');
    expect(frame).not.toContain('secret-client');
    expect(parse(frame)).toEqual([{ id: message.id, event: undefined, data: renderMessage(message) }]);
  });

  it('text: a terminal line with the time, and continuation lines indented', () => {
    expect(messageFrame(message, 'text')).toBe(`id: ${message.id}\ndata: [09:05:07] ann: first line\ndata:     second <b>line</b>\n\n`);
  });

  it('is unnamed in every format (EventSource onmessage and htmx swaps see only unnamed events)', () => {
    for (const format of FORMATS) {
      const [event, ...more] = parse(messageFrame(message, format));
      expect(more).toHaveLength(0);
      expect(event).toMatchObject({ id: message.id, event: undefined });
    }
  });
});

describe('presenceFrame', () => {
  const coalesced = presence({
    members: ['ally', 'cy'],
    change: { kind: 'join', name: 'cy' },
    changes: [{ kind: 'leave', name: 'bob' }, { kind: 'rename', name: 'ally', from: 'ann' }, { kind: 'join', name: 'cy' }],
  });

  it('json and html: one presence event carrying every change', () => {
    for (const format of ['json', 'html'] as const) {
      expect(presenceFrame(coalesced, format)).toBe(`event: presence\ndata: ${JSON.stringify(coalesced)}\n\n`);
    }
  });

  it('text: one readable line per change, each its own event', () => {
    expect(parse(presenceFrame(coalesced, 'text'))).toEqual([
      { id: undefined, event: 'presence', data: '* bob left; 2 here: ally, cy' },
      { id: undefined, event: 'presence', data: '* ann is now ally; 2 here: ally, cy' },
      { id: undefined, event: 'presence', data: '* cy joined; 2 here: ally, cy' },
    ]);
  });

  it('text: the one change, or just who is here, when there is no list of changes', () => {
    expect(presenceFrame(presence({ change: { kind: 'join', name: 'bob' } }), 'text')).toBe('event: presence\ndata: * bob joined; 2 here: ann, bob\n\n');
    expect(presenceFrame(presence(), 'text')).toBe('event: presence\ndata: * 2 here: ann, bob\n\n');
    expect(presenceFrame(presence({ members: [], count: 1, changes: [] }), 'text')).toBe('event: presence\ndata: * 1 here: nobody named\n\n');
  });
});

describe('resetFrame', () => {
  it('json and html: the reason and the id it is about (gap by default)', () => {
    for (const format of ['json', 'html'] as const) {
      expect(resetFrame('41', format)).toBe('event: reset\ndata: {"reason":"gap","after":"41"}\n\n');
      expect(resetFrame('99', format, 'unknown')).toBe('event: reset\ndata: {"reason":"unknown","after":"99"}\n\n');
      expect(resetFrame(null, format, 'unknown')).toBe('event: reset\ndata: {"reason":"unknown","after":null}\n\n');
    }
  });

  it('text: a line saying what happened', () => {
    expect(resetFrame('41', 'text')).toBe('event: reset\ndata: * some messages after 41 are no longer kept; showing what is left\n\n');
    expect(resetFrame('99', 'text', 'unknown')).toBe('event: reset\ndata: * 99 is not a message of this server (its history was reset); showing the recent history\n\n');
  });
});

describe('byeFrame', () => {
  it('says why the server ended the stream, in every format', () => {
    for (const reason of ['slow', 'error', 'shutdown', 'closed'] as EndReason[]) {
      expect(byeFrame(reason, 'json')).toBe(`event: bye\ndata: {"reason":"${reason}"}\n\n`);
      expect(byeFrame(reason, 'html')).toBe(`event: bye\ndata: {"reason":"${reason}"}\n\n`);
      expect(byeFrame(reason, 'text')).toBe(`event: bye\ndata: * disconnected by the server (${reason})\n\n`);
    }
  });
});

describe('editFrame', () => {
  const edited: ChatMessage = { ...message, text: `  new text\nover lines, ${'0123456789'.repeat(6)}`, edited: message.ts + 5000, verified: false, author: 'user:ann' };
  const payload = { room: 'main', id: message.id, text: edited.text, edited: message.ts + 5000 };

  it('json, html and ndjson: the room, the id, the new text and when (html: rendered too), and nothing private', () => {
    for (const [format, data] of [['json', payload], ['html', { ...payload, html: renderMarkdown(edited.text) }]] as const) {
      expect(editFrame(edited, format)).toBe(sseFrame(JSON.stringify(data), { event: 'edit' }));
      expect(parse(editFrame(edited, format))).toEqual([{ id: undefined, event: 'edit', data: JSON.stringify(data) }]);
    }
    expect(JSON.parse(editFrame(edited, 'ndjson'))).toEqual({ event: 'edit', ...payload });
    for (const format of ['json', 'html', 'text', 'raw', 'ndjson'] as const) expect(editFrame(edited, format)).not.toMatch(/secret-client|user:ann/);
  });

  it('text and raw: one line with the name as the text format writes it and the first 60 characters', () => {
    const line = `* ~ann edited a message (${message.id}): new text over lines, ${'0123456789'.repeat(6).slice(0, 60 - 'new text over lines, '.length)}…`;
    expect(editFrame(edited, 'text')).toBe(`event: edit\ndata: ${line}\n\n`);
    expect(editFrame(edited, 'raw')).toBe(`${line}\n`);
    expect(editFrame({ ...edited, text: 'short 😀', verified: true }, 'raw')).toBe(`* ann edited a message (${message.id}): short 😀\n`);
  });
});
