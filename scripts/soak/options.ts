/** The soak's command line: its --help, and its options read and checked. */
import { parseArgs } from 'node:util';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const HELP = `Usage: bun run soak [options]

Starts a threadchat server of its own (a temporary --data dir, a free port) unless --url names a running one,
then runs N clients for T seconds in one room. Each client keeps an SSE stream, posts random messages at random
intervals with its own client id, and drops and resumes its stream with Last-Event-ID at random. Then it stops
posting, reconnects everyone and waits (up to --settle seconds) for delivery to finish, and prints:

  result: sent=… acked=… refused=… failed=… delivered=… expected=… lost=N duplicates=N reordered=N echoed=N
          reconnects=… byes=… http5xx=…

lost: an acknowledged (201) message that a client that should have seen it never got (clients do not get their
own; after a resume a client must get everything after its Last-Event-ID); duplicates: a message a client got
twice; reordered: one that came after a later id; echoed: a client's own message sent back to it.
refused: posts answered 429 or 503 (waited for as told); failed: posts with no answer or another error;
byes: streams the server ended with a bye event (a shutdown); http5xx: answers of 500 and above to a post or a stream (a proxy's 502 too), reported, not part of the status.
Exit status 0 when all four are 0, 1 when not, 2 for bad options, 3 when the run could not be done.
Progress goes to stderr once a second.

  -c, --clients N     clients, 2-200 (default 20)
  -t, --seconds T     seconds of posting, 1-3600 (default 20)
  --rate R            messages per second per client, on average (default 1)
  --drops R           stream drops per minute per client, on average (default 6)
  --settle S          seconds to wait for delivery after posting stops, 1-120 (default 15)
  --room R            room (default: a new soak-… room per run)
  --url URL           use the server at URL (127.0.0.1, localhost or [::1] only) instead of starting one
  --store S           the started server's --store (default sqlite)
  --tls               the started server serves HTTPS (a local certificate made with openssl, trusted by this run)
  --insecure          with an https --url: accept a certificate this machine does not trust
  --token T           send "Authorization: Bearer T" (for a server run with --token)
  -h, --help          show this help
`;

export class UsageError extends Error {}

export function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      clients: { type: 'string', short: 'c', default: '20' },
      seconds: { type: 'string', short: 't', default: '20' },
      rate: { type: 'string', default: '1' },
      drops: { type: 'string', default: '6' },
      settle: { type: 'string', default: '15' },
      room: { type: 'string' },
      url: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      tls: { type: 'boolean', default: false },
      insecure: { type: 'boolean', default: false },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const num = (name: keyof typeof values, min: number, max: number, whole = true) => {
    const raw = String(values[name]);
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || (whole && !Number.isInteger(n)) || n < min || n > max) {
      throw new UsageError(`--${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  };
  const room = values.room ?? `soak-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  if (!/^[a-z0-9_-]{1,64}$/.test(room)) throw new UsageError(`--room "${room}" is not valid: use 1-64 of a-z, 0-9, _ and -`);
  let url: string | null = null;
  if (values.url !== undefined) {
    const parsed = URL.canParse(values.url) ? new URL(values.url) : null;
    if (!parsed || !/^https?:$/.test(parsed.protocol)) throw new UsageError(`--url "${values.url}" is not an http URL`);
    if (!LOOPBACK.has(parsed.hostname)) throw new UsageError(`--url must be on this machine (127.0.0.1, localhost, [::1]); got ${parsed.hostname}`);
    url = parsed.origin;
  }
  return {
    help: values.help,
    clients: num('clients', 2, 200),
    seconds: num('seconds', 1, 3600),
    rate: num('rate', 0.01, 50, false),
    drops: num('drops', 0, 600, false),
    settle: num('settle', 1, 120),
    room, url, store: values.store, token: values.token, tls: values.tls, insecure: values.insecure,
  };
}
export type Options = ReturnType<typeof readOptions>;
