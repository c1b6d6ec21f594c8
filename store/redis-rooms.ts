/**
 * The room list on Redis: the rooms set, and each room stream's newest entry, read in one pipeline. A room whose
 * stream is empty (its messages deleted) is left out. Bounded: at most MAX_ROOMS rooms are read.
 */
import type Redis from 'ioredis';
import { unavailableOnFailure } from './redis-connection.ts';
import { timeOf } from './redis-tail.ts';
import { compareIds, type RoomSummary } from './types.ts';

const MAX_ROOMS = 5000;

export async function listRooms(commands: Redis, roomsKey: string, roomKey: (room: string) => string, limit: number): Promise<RoomSummary[]> {
  return unavailableOnFailure('rooms', async () => {
    const names = ((await commands.call('SRANDMEMBER', roomsKey, String(MAX_ROOMS))) as string[]) ?? [];
    const pipeline = commands.pipeline();
    for (const room of names) pipeline.call('XREVRANGE', roomKey(room), '+', '-', 'COUNT', '1');
    const replies = (await pipeline.exec()) ?? [];
    const rooms: RoomSummary[] = [];
    replies.forEach(([error, entries], i) => {
      const newest = !error && Array.isArray(entries) ? (entries as [string, string[]][])[0] : undefined;
      if (newest) rooms.push({ room: names[i]!, lastId: newest[0], last: timeOf(newest[0]) });
    });
    return rooms.sort((a, b) => compareIds(b.lastId, a.lastId)).slice(0, limit);
  });
}
