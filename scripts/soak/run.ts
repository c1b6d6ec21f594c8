/** One soak run: open every stream, post for the set time, settle, and tally who got what. */
import { dropper, keepStream, poster, type Client, type FetchTls, type Run } from './clients.ts';
import type { Options } from './options.ts';

/** Who should have got what: every acknowledged message at every client but its sender. */
function tally(run: Run) {
  let delivered = 0;
  let lost = 0;
  let echoed = 0;
  const missing: string[] = [];
  for (const m of run.acked) {
    for (const c of run.clients) {
      if (c.index === m.from) {
        if (c.seen.has(m.id)) echoed++;
      } else if (c.seen.has(m.id)) delivered++;
      else {
        lost++;
        if (missing.length < 10) missing.push(`message ${m.id} (from client ${m.from}) never reached client ${c.index} (last id ${c.lastId}, ${c.connects} connects)`);
      }
    }
  }
  const sum = (f: (c: Client) => number) => run.clients.reduce((n, c) => n + f(c), 0);
  return { delivered, expected: run.acked.length * (run.clients.length - 1), lost, echoed, duplicates: sum((c) => c.duplicates), reordered: sum((c) => c.reordered), byes: sum((c) => c.byes), missing };
}

/** Polls `check` every 50 ms until it holds or `ms` pass; returns whether it held. */
async function until(check: () => boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

export async function soak(options: Options, base: string, tls: FetchTls, stderr: (line: string) => void) {
  const auth: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  const tail = await fetch(`${base}/rooms/${options.room}/messages?limit=1`, { headers: auth, tls });
  if (tail.status !== 200) throw new Error(`GET /rooms/${options.room}/messages answered ${tail.status}: ${await tail.text()}`);
  const last = ((await tail.json()) as { messages: { id: string }[] }).messages.at(-1);
  const tag = Math.random().toString(36).slice(2, 8);
  const clients: Client[] = Array.from({ length: options.clients }, (_, index) => ({
    index, id: `soak-${tag}-${index}`, lastId: null, seen: new Set(), duplicates: 0, reordered: 0, byes: 0, connected: false, connects: 0, abort: null,
  }));
  const run: Run = {
    options, base, auth, tls, clients, resumeFrom: last?.id ?? '0', streaming: true, postUntil: 0,
    sent: 0, acked: [], refused: 0, failed: 0, serverErrors: 0, reconnects: 0, problems: [],
  };
  const keepers = clients.map((c) => keepStream(run, c));
  const started = Date.now();
  const progress = setInterval(() => {
    const t = tally(run);
    const open = clients.filter((c) => c.connected).length;
    stderr(`soak ${Math.round((Date.now() - started) / 1000)} s: sent ${run.sent} acked ${run.acked.length} delivered ${t.delivered}/${t.expected} streams ${open}/${clients.length} reconnects ${run.reconnects}`);
  }, 1000);
  try {
    if (!(await until(() => clients.every((c) => c.connected), 15_000))) throw new Error(`only ${clients.filter((c) => c.connected).length} of ${clients.length} streams opened within 15 s: ${run.problems.join('; ')}`);
    run.postUntil = Date.now() + options.seconds * 1000;
    await Promise.all(clients.flatMap((c) => [poster(run, c), dropper(run, c)]));
    // Settle: everyone back online, and every message everywhere it belongs, or the deadline.
    await until(() => {
      const t = tally(run);
      return clients.every((c) => c.connected) && t.lost === 0;
    }, options.settle * 1000);
  } finally {
    clearInterval(progress);
    run.streaming = false;
    for (const c of clients) c.abort?.abort();
    await Promise.all(keepers);
  }
  return { run, result: tally(run) };
}
