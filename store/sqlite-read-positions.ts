/**
 * Read positions on SQLite (IdentityStore.setReadPosition): where each signed-in subject last read each room, in
 * `read_positions` (made by sqlite-identity.ts createIdentityTables, so a database made before it gets it on its
 * next open), one row a subject and room with the time it last moved. Each change is one short IMMEDIATE
 * transaction of the identity store's: the stored id is read and replaced only by a later one (compareIds), so a
 * stale browser never moves it back, and past MAX_READ_ROOMS rooms the subject's position updated longest ago goes.
 */
import { MAX_READ_ROOMS } from './identity-types.ts';
import type { SqlDatabase } from './sqlite-driver.ts';
import { compareIds } from './types.ts';

export const READ_POSITIONS_TABLE = `CREATE TABLE IF NOT EXISTS read_positions (
    subject TEXT NOT NULL, room TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (subject, room)) WITHOUT ROWID`;

/** `write` runs its function as one IMMEDIATE transaction (sqlite-identity.ts). */
export function sqliteReadPositions(db: SqlDatabase, write: (what: string, fn: () => void) => void) {
  const held = db.prepare<{ id: string }, [string, string]>('SELECT id FROM read_positions WHERE subject = ? AND room = ?');
  const put = db.prepare<never, [string, string, string, number]>(`INSERT INTO read_positions (subject, room, id, at) VALUES (?, ?, ?, ?)
    ON CONFLICT (subject, room) DO UPDATE SET id = excluded.id, at = excluded.at`);
  const count = db.prepare<{ n: number }, [string]>('SELECT COUNT(*) AS n FROM read_positions WHERE subject = ?');
  const dropOldest = db.prepare<never, [string, string, number]>(
    'DELETE FROM read_positions WHERE subject = ? AND room IN (SELECT room FROM read_positions WHERE subject = ? ORDER BY at, room LIMIT ?)',
  );
  const all = db.prepare<{ room: string; id: string }, [string]>('SELECT room, id FROM read_positions WHERE subject = ?');
  const deleteOf = db.prepare<never, [string]>('DELETE FROM read_positions WHERE subject = ?');

  return {
    async setReadPosition(subject: string, room: string, id: string) {
      write('setReadPosition', () => {
        const before = held.get(subject, room);
        if (before && compareIds(before.id, id) >= 0) return;
        put.run(subject, room, id, Date.now());
        if (before) return; // no new room: the count stands
        const over = (count.get(subject)?.n ?? 0) - MAX_READ_ROOMS;
        if (over > 0) dropOldest.run(subject, subject, over);
      });
    },
    async readPositions(subject: string) {
      const positions: Record<string, string> = {};
      for (const { room, id } of all.all(subject)) positions[room] = id;
      return positions;
    },
    /** Within a write (deleteAccount): forgets every position of `subject`. */
    deleteOf: (subject: string) => deleteOf.run(subject),
  };
}
