/**
 * Deleting a message on Redis: gone from its room stream (history, resumes) and from the feed (so a tail that
 * catches up after an outage does not deliver it again), and told to every instance on one channel, so each ends
 * it on its own streams. An instance cut off from Redis while the notice went out misses it: its pages keep the
 * message until they load the history again.
 */
import type Redis from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import { createEmitter } from './emitter.ts';
import { defineScript, unavailableOnFailure } from './redis-connection.ts';

/** KEYS: feed, room stream. ARGV: id, channel, notice. 1 when it was there, 0 when not (nothing is told). */
const REMOVE_LUA = `
if redis.call('XDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

const noticeSchema = z.object({ room: z.string().max(64), id: z.string().max(64) });

export interface RemovalOptions {
  commands: Redis;
  subscriber: Redis;
  feed: string;
  room: (room: string) => string;
  channel: string;
  logger?: Logger;
}

export async function createRedisRemoval({ commands, subscriber, feed, room: roomKey, channel, logger }: RemovalOptions) {
  const removeScript = defineScript(commands, 'threadchatRemove', REMOVE_LUA, 2);
  const removals = createEmitter<{ room: string; id: string }>();
  let warned = false;
  const hear = (on: string, raw: string) => {
    if (on !== channel) return;
    let parsed: z.ZodSafeParseResult<{ room: string; id: string }>;
    try {
      parsed = noticeSchema.safeParse(JSON.parse(raw));
    } catch {
      parsed = noticeSchema.safeParse(null);
    }
    if (parsed.success) return removals.emit(parsed.data);
    if (!warned) logger?.warn('Ignored a deletion notice that cannot be read', { channel });
    warned = true;
  };
  subscriber.on('message', hear);
  await subscriber.subscribe(channel);

  return {
    async remove(room: string, id: string): Promise<boolean> {
      if (!/^\d{1,20}-\d{1,20}$/.test(id)) return false;
      const notice = JSON.stringify({ room, id });
      return (await unavailableOnFailure('remove', () => removeScript(feed, roomKey(room), id, channel, notice))) === 1;
    },
    onRemoved: (listener: (room: string, id: string) => void) => removals.subscribe(({ room, id }) => listener(room, id)),
    async close() {
      subscriber.off('message', hear);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
