import { describe, expect, it } from 'bun:test';
import { openStream, post, startServer, tempDir } from '../helpers.ts';

const SECRET = 'the-secret-text-4711';

/** Runs a server with `args`, streams and posts a message, stops it; returns its output lines. */
async function session(args: string[]): Promise<string[]> {
  const data = tempDir();
  const server = await startServer(['--data', data.path, ...args]);
  try {
    const stream = await openStream(`${server.url}/rooms/logged/events?client=reader`);
    const sent = await post(server.url, 'logged', { name: 'ann', text: `${SECRET}\nsecond line` });
    await stream.next((e) => e.id === sent.id, 'the message');
    stream.close();
    expect(await server.stop()).toBe(0);
    return (await server.allOutput()).split('\n').filter((line) => line !== '');
  } finally {
    data.remove();
  }
}

const parse = (lines: string[]) =>
  lines.map((line) => {
    const event = JSON.parse(line) as { time: string; level: string; msg: string; [k: string]: unknown };
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    expect(['debug', 'info', 'warn', 'error']).toContain(event.level);
    return event;
  });

describe('logs', () => {
  it('writes one JSON object per line with --log json, and no message text at info', async () => {
    const events = parse(await session(['--log', 'json']));
    expect(events[0]!.msg).toMatch(/^threadchat listening on http:/);
    expect(events.some((e) => e.msg.startsWith('Accepted connection') && e.level === 'info')).toBe(true);
    expect(events.some((e) => e.level === 'debug')).toBe(false);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('adds a line per request at debug level, still without message text', async () => {
    const events = parse(await session(['--log', 'json', '--log-level', 'debug']));
    expect(events.some((e) => e.msg === 'request' && e.method === 'POST' && e.status === 201)).toBe(true);
    expect(events.some((e) => e.msg === 'message' && e.level === 'debug' && typeof e.chars === 'number')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('logs each message with its text only with --log-messages', async () => {
    const events = parse(await session(['--log', 'json', '--log-messages']));
    const logged = events.find((e) => e.msg === 'message');
    expect(logged).toMatchObject({ level: 'info', room: 'logged', name: 'ann', text: `${SECRET}\nsecond line` });
  });

  it('leaves out what is below --log-level', async () => {
    const events = parse(await session(['--log', 'json', '--log-level', 'warn']));
    // The startup line is always there; nothing else at info happened to be worth a warning.
    expect(events.filter((e) => !e.msg.startsWith('threadchat listening'))).toEqual([]);
  });

  it('writes readable single lines with --log pretty', async () => {
    const lines = await session(['--log', 'pretty', '--log-messages']);
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d \[[*.!x]\] \S/);
    expect(lines.find((l) => l.includes(' message '))).toContain(`text=${JSON.stringify(`${SECRET}\nsecond line`)}`);
  });
});
