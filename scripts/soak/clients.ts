/**
 * The soak's clients: each keeps an SSE stream (dropped and resumed with Last-Event-ID at random) and posts
 * messages at random intervals, and records what it received.
 */
import { createParser } from 'eventsource-parser';
import { compareIds } from '../../store/types.ts';
import type { Options } from './options.ts';

const WORDS = ['hello', 'soak', 'ok', 'ça va', '😀', 'line\nbreak', 'tab\there', '<b>x</b>', '&amp;', 'event: bye', 'data: x', 'id: 9'];
const randomText = (tag: string) => {
  const n = 1 + Math.floor(Math.random() * (Math.random() < 0.05 ? 300 : 8));
  return `${tag} ${Array.from({ length: n }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ')}`;
};
/** An exponentially distributed wait with the given mean: a Poisson process of posts or drops. */
const poisson = (meanMs: number) => -Math.log(1 - Math.random()) * meanMs;

export interface Client {
  index: number;
  id: string;
  /** Highest message id this client received (null: none yet); a resume asks for everything after it. */
  lastId: string | null;
  seen: Set<string>;
  duplicates: number;
  reordered: number;
  /** `bye` events received: the server ended the stream (a shutdown, a slow client). */
  byes: number;
  connected: boolean;
  connects: number;
  abort: AbortController | null;
}

/** A stream the server (or a proxy in front of it) refused, with the status it answered. */
class Refused extends Error {
  constructor(readonly status: number, body: string) {
    super(`stream answered ${status}: ${body.slice(0, 200)}`);
  }
}

/** One stream connection: resolves when it ends (dropped by us or ended by the server); throws when refused. */
async function stream(base: string, room: string, client: Client, resumeFrom: string, auth: Record<string, string>, tls: FetchTls) {
  const abort = (client.abort = new AbortController());
  const first = client.connects++ === 0;
  // The first connect is a plain one (recent history); every later one resumes after what this client saw, or
  // after the room's last message at the start when it has seen nothing yet.
  const headers: Record<string, string> = { Accept: 'text/event-stream', 'X-Client-Id': client.id, ...auth };
  if (!first) headers['Last-Event-ID'] = client.lastId ?? resumeFrom;
  const res = await fetch(`${base}/rooms/${room}/events?name=soak-${client.index}`, { headers, signal: abort.signal, tls });
  if (res.status !== 200) throw new Refused(res.status, await res.text());
  const parser = createParser({
    onRetry: () => void (client.connected = true), // the first frame of every stream
    onEvent: (e) => {
      if (e.event === 'bye') client.byes++;
      if (e.event !== undefined || e.id === undefined) return; // presence and the other named events
      if (client.seen.has(e.id)) client.duplicates++;
      else if (client.lastId !== null && compareIds(e.id, client.lastId) < 0) client.reordered++;
      client.seen.add(e.id);
      if (client.lastId === null || compareIds(e.id, client.lastId) > 0) client.lastId = e.id;
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as ReadableStream<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  } finally {
    client.connected = false;
  }
}

/** What every fetch of a run says about TLS: trust the run's own certificate, or (--insecure) any. */
export type FetchTls = { ca: string } | { rejectUnauthorized: false } | undefined;

export interface Run {
  options: Options;
  base: string;
  auth: Record<string, string>;
  tls: FetchTls;
  clients: Client[];
  /** The room's last id before the run (0 when empty): where a client that saw nothing yet resumes. */
  resumeFrom: string;
  streaming: boolean;
  postUntil: number;
  sent: number;
  acked: { id: string; from: number }[];
  refused: number;
  failed: number;
  /** Answers of 500 and above a client got, to a post or a stream (a 503 is also counted in refused). */
  serverErrors: number;
  reconnects: number;
  problems: string[];
}

/** Keeps a client's stream open until the run ends: after a drop or an end it resumes, after a refusal it backs off. */
export async function keepStream(run: Run, client: Client) {
  let backoff = 100;
  while (run.streaming) {
    try {
      await stream(run.base, run.options.room, client, run.resumeFrom, run.auth, run.tls);
      backoff = 100;
    } catch (error) {
      if (!client.abort?.signal.aborted) {
        if (error instanceof Refused && error.status >= 500) run.serverErrors++;
        if (run.problems.length < 20) run.problems.push(`client ${client.index}: ${String(error)}`);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    if (!run.streaming) return;
    run.reconnects++;
    await Bun.sleep(Math.random() * backoff);
  }
}

/** Drops the client's stream now and then while posting lasts, as a flaky network or a hidden tab would. */
export async function dropper(run: Run, client: Client) {
  if (run.options.drops === 0) return;
  while (Date.now() < run.postUntil) {
    await Bun.sleep(Math.min(poisson(60_000 / run.options.drops), Math.max(0, run.postUntil - Date.now())));
    if (Date.now() < run.postUntil && client.connected) client.abort?.abort();
  }
}

/** Posts random messages at random intervals while posting lasts, and counts what the server answered. */
export async function poster(run: Run, client: Client) {
  let seq = 0;
  while (Date.now() < run.postUntil) {
    await Bun.sleep(Math.min(poisson(1000 / run.options.rate), Math.max(0, run.postUntil - Date.now())));
    if (Date.now() >= run.postUntil) return;
    run.sent++;
    const res = await fetch(`${run.base}/rooms/${run.options.room}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Client-Id': client.id, ...run.auth },
      body: JSON.stringify({ name: `soak-${client.index}`, text: randomText(`c${client.index}#${++seq}`) }),
      tls: run.tls,
    }).catch((error) => String(error));
    if (typeof res === 'string') {
      run.failed++;
      if (run.problems.length < 20) run.problems.push(`client ${client.index} post: ${res}`);
    } else if (res.status === 201) {
      run.acked.push({ id: ((await res.json()) as { id: string }).id, from: client.index });
    } else {
      const body = await res.text();
      if (res.status >= 500) run.serverErrors++;
      if (res.status === 429 || res.status === 503) {
        run.refused++; // the server's flood limits (a --url server keeps its own): wait as told
        await Bun.sleep(Math.min(Number(res.headers.get('retry-after') ?? 1) * 1000, Math.max(0, run.postUntil - Date.now())));
      } else {
        run.failed++;
        if (run.problems.length < 20) run.problems.push(`client ${client.index} post answered ${res.status}: ${body.slice(0, 200)}`);
      }
    }
  }
}
