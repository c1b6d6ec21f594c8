/**
 * Small numbers for names held by open streams (rooms, client ids), counted per holder: a name keeps its number
 * while at least one stream holds it, and a freed number is given out again. At most one number per stream.
 */
export function createNumbering() {
  const held = new Map<string, { no: number; holders: number }>();
  const free: number[] = [];
  let next = 0;
  return {
    /** The name's number, held once more. */
    acquire(name: string): number {
      let entry = held.get(name);
      if (!entry) held.set(name, (entry = { no: free.pop() ?? next++, holders: 0 }));
      entry.holders++;
      return entry.no;
    },
    /** One holder lets go; the last one frees the number. */
    release(name: string) {
      const entry = held.get(name);
      if (!entry || --entry.holders > 0) return;
      held.delete(name);
      free.push(entry.no);
    },
    /** The name's number, or -1 when no stream holds it. */
    of: (name: string) => held.get(name)?.no ?? -1,
    /** [name, number] of every name held. */
    *entries(): IterableIterator<[string, number]> {
      for (const [name, entry] of held) yield [name, entry.no];
    },
    get size() {
      return held.size;
    },
  };
}
