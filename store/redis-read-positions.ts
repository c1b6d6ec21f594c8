/**
 * Read positions on Redis (IdentityStore.setReadPosition), under the store's prefix:
 * - `read:<subject>`: a hash, room → the id of the message read last;
 * - `read-at:<subject>`: a sorted set of the same rooms scored by when their position last moved (ms), so past
 *   MAX_READ_ROOMS rooms the one updated longest ago goes.
 * One Lua script compares and writes (the ids compared as store/types.ts compareIds does), so two browsers of one
 * person racing never move a position back. redis-identity.ts's account deletion deletes both keys of `user:NAME`.
 */
import type Redis from 'ioredis';
import { MAX_READ_ROOMS } from './identity-types.ts';
import { defineScript, unavailableOnFailure } from './redis-connection.ts';

/**
 * KEYS: read, read-at. ARGV: room, id, now in ms, the most rooms kept. Keeps the later id; 1 when written, 0 when
 * the stored one was as late or later. compare() is compareIds: each `-`-separated part as a number written in
 * decimal (a longer one is larger; equal lengths compare as text), a missing part 0.
 */
const SET_READ_LUA = `
local function parts(s)
  local t = {}
  for p in string.gmatch(s, '[^-]+') do t[#t + 1] = p end
  return t
end
local function compare(a, b)
  local pa, pb = parts(a), parts(b)
  for i = 1, math.max(#pa, #pb) do
    local x, y = pa[i] or '0', pb[i] or '0'
    if #x ~= #y then return #x - #y end
    if x ~= y then
      if x < y then return -1 end
      return 1
    end
  end
  return 0
end
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and compare(held, ARGV[2]) >= 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  for _, room in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do redis.call('HDEL', KEYS[1], room) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
return 1`;

export function redisReadPositions(commands: Redis, prefix: string) {
  const keys = {
    read: (subject: string) => `${prefix}read:${subject}`,
    readAt: (subject: string) => `${prefix}read-at:${subject}`,
  };
  const setScript = defineScript(commands, 'threadchatIdentitySetRead', SET_READ_LUA, 2);
  return {
    keys,
    async setReadPosition(subject: string, room: string, id: string) {
      await unavailableOnFailure('setReadPosition', () =>
        setScript(keys.read(subject), keys.readAt(subject), room, id, String(Date.now()), String(MAX_READ_ROOMS)),
      );
    },
    async readPositions(subject: string): Promise<Record<string, string>> {
      return unavailableOnFailure('readPositions', () => commands.hgetall(keys.read(subject)));
    },
  };
}
