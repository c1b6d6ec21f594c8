/**
 * What instances share about presence in Redis, and how it is read: the keys, the two Lua scripts, the share and
 * notice formats (checked with zod: another version or a broken writer must not make a reader throw), and the
 * diff that turns two views of the other instances into join, leave and rename changes.
 */
import { z } from 'zod';
import { clientSchema, firstIssue, nameSchema } from '../lib/input.ts';
import type { Presence, PresenceChange } from '../lib/chat-types.ts';
import type { PresenceShare } from './types.ts';

export interface PresenceKeys {
  /** The hash of one room: field = instance id, value = "<expiry ms> <share as JSON>". */
  presence(room: string): string;
  /** SCAN pattern matching every room's hash. */
  presencePattern: string;
  /** Pub/sub channel of change notices (pub/sub ignores the database number, so the name carries it). */
  channel: string;
}


/** Writes (or with an empty share, deletes) one instance's field, refreshes the key's TTL, and publishes a notice. */
export const SHARE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', now + tonumber(ARGV[2])) .. ' ' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1`;

/** Returns the live fields of a room's hash as [instance, share JSON, ...] and deletes the expired ones. */
export const READ_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local expiry, share = string.match(all[i + 1], '^(%d+) (.*)$')
  if expiry == nil or tonumber(expiry) < now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    live[#live + 1] = all[i]
    live[#live + 1] = share
  end
end
return live`;

export interface Notice {
  room: string;
  from: string;
  change: Presence['change'];
  /** Not a change of the sender's share: a request that the instances holding `client`'s streams rename them. */
  rename?: { client: string; name: string };
  /** Not a change either: `client` is typing in the room, for the streams of the other instances. */
  typing?: { client: string; name: string };
}

// What other instances write is checked before use: another version, or a broken writer, must not make this one
// throw while it reads (unknown extra fields are dropped, so a newer writer's additions are harmless).
export const shareSchema = z.object({
  streams: z.number().int().min(0),
  names: z.record(z.string(), z.number().int().min(0)),
  clients: z.record(z.string(), z.string()).optional(), // absent from an older writer's share
});
const changeSchema = z.object({ kind: z.enum(['join', 'leave', 'rename']), name: z.string(), from: z.string().optional() });
const renameSchema = z.object({ client: clientSchema, name: nameSchema });
/** A notice on the channel: a share changed (with its change), a rename asked of another instance, or someone typing. */
export const noticeSchema = z.object({ room: z.string(), from: z.string(), change: changeSchema.nullable().optional(), rename: renameSchema.optional(), typing: renameSchema.optional() });
/** A bad share is read again at every heartbeat: it is reported at most this often. */
export const IGNORED_REPORT_MS = 60_000;

/** `text` read as JSON and checked by `schema`: the value, or why it is unusable. */
export function readJson<T>(schema: z.ZodType<T>, text: string): { value: T } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  const result = schema.safeParse(json);
  return result.success ? { value: result.data } : { problem: firstIssue(result.error) };
}

export const EMPTY: PresenceShare = Object.freeze({ streams: 0, names: Object.freeze({}) });

export const namesIn = (shares: Map<string, PresenceShare> | undefined) => {
  const names = new Set<string>();
  for (const share of shares?.values() ?? []) for (const [name, n] of Object.entries(share.names)) if (n > 0) names.add(name);
  return names;
};
export const streamsIn = (shares: Map<string, PresenceShare> | undefined) =>
  [...(shares?.values() ?? [])].reduce((sum, share) => sum + share.streams, 0);

/** What changed between two views of the other instances; a rename `hint` pairs a departure with an arrival. */
export function diffPresence(before: Set<string>, after: Set<string>, hint: Presence['change']): PresenceChange[] {
  const gone = [...before].filter((name) => !after.has(name));
  const came = [...after].filter((name) => !before.has(name));
  const changes: PresenceChange[] = [];
  if (hint?.kind === 'rename' && hint.from && gone.includes(hint.from) && came.includes(hint.name)) {
    changes.push(hint);
    gone.splice(gone.indexOf(hint.from), 1);
    came.splice(came.indexOf(hint.name), 1);
  }
  for (const name of gone.sort()) changes.push({ kind: 'leave', name });
  for (const name of came.sort()) changes.push({ kind: 'join', name });
  return changes;
}
