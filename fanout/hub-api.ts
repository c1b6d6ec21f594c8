import type { Presence } from '../lib/chat-types.ts';
import type { WaitKind } from '../runtime/wait-word.ts';
import type { StreamOptions } from './shm/protocol.ts';

/**
 * The room of the status streams (GET /status/events): no client room can take it (rooms match
 * ^[a-z0-9_-]{1,64}$, lib/input.ts). Its streams are not members of it, and read no history.
 */
export const STATUS_ROOM = '#status';

/** What a route asks for when it opens a stream. */
export interface OpenRequest extends Omit<StreamOptions, 'slot' | 'roomWord' | 'clientNo'> {
  /** Recent messages to replay when there is no lastEventId. */
  history: number;
  name: string | null;
  /** Who this is, for logs: `address:port`, or `client via proxy:port` behind a trusted proxy. */
  peer: string;
  /** The client's IP address (behind a trusted proxy, the one it forwarded for), counted against maxStreamsPerIp. */
  address: string;
  /**
   * Who opened it, when someone signed in did: the identity (`Who.id`), the session it came with (its digest), and
   * when its credential ends (ms since the epoch: a session's absolute end, a JWT's exp). Hub.revoke and the
   * hub's once-a-second sweep end it on a change of those.
   */
  owner?: { subject: string; session: string | null; until: number | null };
}

/** A stream refused for want of room (a 503): too many streams, threads that cannot start, a shutdown. */
export class HubFullError extends Error {
  override name = 'HubFullError';
  /** Seconds after which a retry is likely to succeed (the 503's Retry-After). */
  constructor(message: string, readonly retryAfter = 5) {
    super(message);
  }
}

export interface HubStats {
  /** Streams open. */
  streams: number;
  /** Streams whose Worker has not written its first bytes yet. */
  connecting: number;
  /** Worker threads serving streams. */
  workers: number;
  /** Worker threads pooled, ready for a stream. */
  idle: number;
  /** Worker threads spawned that have not said `ready` yet. */
  starting: number;
  /** Worker threads told to let go of their stream, expected back in the pool. */
  returning: number;
  /** Worker threads alive (counted by their exit events). */
  threads: number;
  /** Bytes held for clients: in their rings, and queued in their responses. */
  buffered: number;
  /** The shared log's next sequence number. */
  logSeq: number;
  /** Rooms with a wait word (a stream here follows them). */
  rooms: number;
  /** Waves of wakes the main thread started. */
  waves: number;
  /** Status snapshots taken (fanout/status-sampler.ts): it moves only while a status stream is open. */
  statusSnapshots: number;
  wait: WaitKind;
}

/** The fan-out as the routes see it (fanout/hub.ts builds the real one; a route test can fake it). */
export interface Hub {
  /** Opens a stream: its Worker replays history, then follows the room. Throws HubFullError when it cannot. */
  open(request: OpenRequest): Promise<ReadableStream<Uint8Array>>;
  /** Who is in `room` now, here and (with a shared store) on other instances. */
  members(room: string): Presence;
  /** Null, or a promise to await before answering a POST into `room`: its streams are behind (flow-control.ts). */
  caughtUp(room: string): Promise<void> | null;
  /** The client's streams in `room`, on this instance and (with a shared store) on the others, take `name`; false when it has none there. */
  renameMember(room: string, client: string | null, name: string): boolean;
  /** `client` is typing in `room` as `name`: the room's other streams get a `typing` event (never stored). */
  typing(room: string, client: string, name: string): void;
  /**
   * Ends the streams of `subject` (with `session`: those opened with that session, whoever) with `bye` reason
   * `revoked`: a sign-out, a deleted account, changed rights. Returns how many ended.
   */
  revoke(subject: string, session?: string): number;
  /** Ends every stream of a room at once without a final event, as a dropped connection would (a test hook). */
  drop(room: string): void;
  stats(): HubStats;
  /** Ends every stream with a final `bye` event and stops the Workers. */
  close(): Promise<void>;
}
