/** The chat's own data: what a message is and who is in a room. The store, views and fan-out all speak these. */

/** A stored chat message. `id` is opaque, strictly increasing within a room, and is the SSE `id:`. */
export interface ChatMessage {
  id: string;
  room: string;
  name: string;
  text: string;
  /** Milliseconds since the epoch, set by the server. */
  ts: number;
  /** The sender's client id, used only to keep its own stream from echoing it; never sent to other clients. */
  client: string | null;
  /**
   * true: the name is a signed-in identity's. false: an anonymous sender chose it, where others sign in (accounts or
   * jwt mode). Absent: nobody signs in (open and token modes), or the message is older than the mark.
   */
  verified?: boolean;
  /** `Who.id` of a signed-in sender (who may delete it besides an admin); absent for the anonymous. Never sent to clients. */
  author?: string;
  /** Milliseconds since the epoch of its last edit (`PATCH …/messages/:id`); absent for a message never edited. */
  edited?: number;
  /** The message it answers, as it was when answered (`reply_to`); absent for a message that answers none. */
  replyTo?: ReplyQuote;
}

export interface NewMessage {
  room: string;
  name: string;
  text: string;
  client: string | null;
  verified?: boolean;
  author?: string;
  replyTo?: ReplyQuote;
}

/**
 * The message a reply answers: its id, its sender's name and the start of its text, kept with the reply, so a
 * quote needs no second read and stays when the original is trimmed or deleted.
 */
export interface ReplyQuote {
  id: string;
  name: string;
  text: string;
}

/** One arrival, departure or rename in a room (`from`: the old name of a rename). */
export interface PresenceChange {
  kind: 'join' | 'leave' | 'rename';
  name: string;
  from?: string;
}

/** Who is in a room right now. */
export interface Presence {
  room: string;
  members: string[];
  /** Open streams (a person with two tabs has two), the status page's left out. */
  count: number;
  /** Of those, the streams without a name: readers who are not in `members` (a page shows "and N watching"). */
  watching?: number;
  /** What changed, for join/leave notices (the last change when several are reported together). */
  change: PresenceChange | null;
  /** Every change since the previous presence event, oldest first (presence events are coalesced). */
  changes?: PresenceChange[];
}
