import { afterAll, describe, expect, it } from 'bun:test';
import { createMemoryStore } from '../../store/memory.ts';
import { createRedisStore } from '../../store/redis.ts';
import { createSqliteStore } from '../../store/sqlite.ts';
import { type ChatMessage } from '../../lib/chat-types.ts';
import { compareIds, type Store } from '../../store/types.ts';
import { tempDir, waitFor } from '../helpers.ts';
import { openSqlite } from '../../store/sqlite-driver.ts';
import { DB, deleteKeys, SHARED_REDIS, storeUrl, uniquePrefix } from './redis-helpers.ts';

const dirs: { remove(): void }[] = [];
const redisPrefixes: string[] = [];
afterAll(async () => {
  dirs.forEach((d) => d.remove());
  for (const prefix of redisPrefixes) await deleteKeys(SHARED_REDIS, DB.conformance, prefix);
});

/** Every backend is held to the same contract; the memory backend is the reference. */
export const backends: Record<string, (retention?: number) => Promise<Store>> = {
  memory: async (retention) => createMemoryStore({ retention }),
  sqlite: async (retention) => {
    const dir = tempDir();
    dirs.push(dir);
    return createSqliteStore({ dir: dir.path, retention });
  },
  // The shared Redis on 6379, each store under keys of its own.
  redis: async (retention) => {
    const prefix = uniquePrefix('conformance');
    redisPrefixes.push(prefix);
    return createRedisStore({ url: storeUrl(SHARED_REDIS, DB.conformance, prefix), retention });
  },
};

const msg = (room: string, text: string) => ({ room, name: 'tester', text, client: null });

for (const [kind, make] of Object.entries(backends)) {
  describe(`store: ${kind}`, () => {
    it('gives strictly increasing ids within a room and keeps order', async () => {
      const store = await make();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await store.append(msg(i % 2 ? 'a' : 'b', `m${i}`))).id);
      const a = await store.recent('a', 100);
      expect(a.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i * 2 + 1}`));
      for (let i = 1; i < a.length; i++) expect(compareIds(a[i]!.id, a[i - 1]!.id)).toBeGreaterThan(0);
      await store.close();
    });

    it('answers since() in pages, and recent() with the last k', async () => {
      const store = await make();
      const all: ChatMessage[] = [];
      for (let i = 0; i < 7; i++) all.push(await store.append(msg('r', `t${i}`)));
      const first = await store.since('r', all[1]!.id, 3);
      expect(first.messages.map((m) => m.text)).toEqual(['t2', 't3', 't4']);
      expect(first.more).toBe(true);
      expect(first.gap).toBe(false);
      const rest = await store.since('r', first.messages.at(-1)!.id, 3);
      expect(rest.messages.map((m) => m.text)).toEqual(['t5', 't6']);
      expect(rest.more).toBe(false);
      expect((await store.recent('r', 2)).map((m) => m.text)).toEqual(['t5', 't6']);
      expect(await store.recent('empty', 5)).toEqual([]);
      await store.close();
    });

    it('answers before() with the messages just older than an id, oldest first, back to the start', async () => {
      const store = await make();
      const all: ChatMessage[] = [];
      for (let i = 0; i < 7; i++) {
        all.push(await store.append(msg('r', `t${i}`)));
        await store.append(msg('other', `o${i}`)); // another room's ids in between
      }
      const texts = (page: { messages: ChatMessage[] }) => page.messages.map((m) => m.text);
      const first = await store.before('r', all[5]!.id, 2);
      expect(texts(first)).toEqual(['t3', 't4']); // the bound itself is not included
      expect(first).toMatchObject({ more: true, trimmed: false });
      const second = await store.before('r', first.messages[0]!.id, 2);
      expect(texts(second)).toEqual(['t1', 't2']);
      expect(second.more).toBe(true);
      const last = await store.before('r', second.messages[0]!.id, 2);
      expect(texts(last)).toEqual(['t0']);
      expect(last).toMatchObject({ more: false, trimmed: false });
      expect(await store.before('r', all[0]!.id, 5)).toMatchObject({ messages: [], more: false, trimmed: false });
      expect(texts(await store.before('r', all[6]!.id, 100))).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
      const exact = await store.before('r', all[6]!.id, 6);
      expect(exact.messages.length).toBe(6);
      expect(exact.more).toBe(false); // exactly the rest: nothing older is left
      expect(await store.before('r', '0', 5)).toMatchObject({ messages: [], more: false, trimmed: false });
      expect(await store.before('r', all[1]!.id, 0)).toMatchObject({ messages: [], more: true }); // 0: are there older?
      expect(await store.before('r', all[0]!.id, 0)).toMatchObject({ messages: [], more: false, trimmed: false });
      const empty = await store.before('empty', all[3]!.id, 5);
      expect(empty).toMatchObject({ messages: [], more: false, trimmed: false });
      expect(empty.unknown ?? false).toBe(false);
      expect(await store.before('r', '1', 5)).toMatchObject({ messages: [], unknown: true }); // never issued here
      await store.close();
    });

    it('says trimmed once before() reaches the oldest message retention kept', async () => {
      const store = await make(100);
      const all: ChatMessage[] = [];
      for (let i = 0; i < 300; i++) all.push(await store.append(msg('r', `t${i}`)));
      const untouched: ChatMessage[] = [];
      for (let i = 0; i < 5; i++) untouched.push(await store.append(msg('whole', `w${i}`)));
      const kept = await store.recent('r', 1000);
      const paged: ChatMessage[] = [];
      let page = await store.before('r', all.at(-1)!.id, 30);
      paged.unshift(all.at(-1)!);
      for (;;) {
        paged.unshift(...page.messages);
        if (!page.more) break;
        expect(page.trimmed).toBe(false); // older ones are still kept
        page = await store.before('r', page.messages[0]!.id, 30);
      }
      expect(page.trimmed).toBe(true);
      expect(paged.map((m) => m.id)).toEqual(kept.map((m) => m.id)); // every kept message once, in order
      expect(await store.before('r', all[0]!.id, 10)).toMatchObject({ messages: [], more: false, trimmed: true });
      const whole = await store.before('whole', untouched.at(-1)!.id, 10);
      expect(whole.messages.map((m) => m.text)).toEqual(['w0', 'w1', 'w2', 'w3']);
      expect(whole).toMatchObject({ more: false, trimmed: false });
      await store.close();
    });

    it('notifies subscribers of each append in order', async () => {
      const store = await make();
      const seen: string[] = [];
      const off = store.subscribe((m) => seen.push(m.text));
      await store.append(msg('r', 'one'));
      await store.append(msg('r', 'two'));
      off();
      await store.append(msg('r', 'three'));
      expect(seen).toEqual(['one', 'two']);
      await store.close();
    });

    it('keeps whether a name was verified in every read, and says nothing when nothing was said', async () => {
      const store = await make();
      const seen: ChatMessage[] = [];
      const off = store.subscribe((m) => seen.push(m));
      const said = [
        await store.append({ ...msg('v', 'signed'), verified: true }),
        await store.append({ ...msg('v', 'chosen'), verified: false }),
        await store.append(msg('v', 'open')),
      ];
      const end = await store.append(msg('v', 'end'));
      off();
      const page = async (list: Promise<ChatMessage[]>) => (await list).filter((m) => m.id !== end.id);
      const reads = [said, seen.slice(0, 3), await page(store.recent('v', 10)), await page(store.since('v', '0', 10).then((p) => p.messages)), (await store.before('v', end.id, 10)).messages];
      for (const list of reads) {
        expect(list.map((m) => m.verified)).toEqual([true, false, undefined]);
        expect('verified' in list[2]!).toBe(false);
      }
      const key = { scope: 'c', key: 'k', fingerprint: 'f' };
      expect((await store.appendOnce({ ...msg('v', 'once'), verified: true }, key)).message.verified).toBe(true);
      const again = await store.appendOnce({ ...msg('v', 'once'), verified: true }, key);
      expect(again).toMatchObject({ replayed: true, message: { verified: true } });
      await store.close();
    });

    it('finds a message by id, keeps its author, and deletes it: gone from history, its id still a known place', async () => {
      const store = await make();
      const heard: [string, string][] = [];
      store.onRemoved((room, id) => heard.push([room, id]));
      const a = await store.append({ ...msg('del', 'first'), author: 'user:ann' });
      const b = await store.append(msg('del', 'second'));
      const c = await store.append(msg('del', 'third'));
      expect(await store.find('del', a.id)).toMatchObject({ id: a.id, text: 'first', author: 'user:ann' });
      expect((await store.find('del', b.id))?.author).toBeUndefined();
      expect(await store.find('other-room', a.id)).toBeNull();
      expect(await store.remove('other-room', b.id)).toBe(false); // a message is deleted in its own room only
      expect(await store.remove('del', b.id)).toBe(true);
      expect(await store.remove('del', b.id)).toBe(false);
      expect(await store.find('del', b.id)).toBeNull();
      expect((await store.recent('del', 10)).map((m) => m.text)).toEqual(['first', 'third']);
      const resumed = await store.since('del', b.id, 10); // a client whose last id is the deleted one
      expect(resumed.unknown).toBeFalsy();
      expect(resumed.messages.map((m) => m.id)).toEqual([c.id]);
      expect((await store.since('del', a.id, 10)).messages.map((m) => m.text)).toEqual(['third']);
      expect((await store.before('del', c.id, 10)).messages.map((m) => m.text)).toEqual(['first']);
      await waitFor(() => heard.length > 0, 'the deletion told to listeners'); // Redis: through its channel, to the deleter too
      expect(heard).toEqual([['del', b.id]]);
      await store.close();
    });

    it('edits a message: find, history and resumes show the new text and when it was edited, listeners hear it', async () => {
      const store = await make();
      const heard: ChatMessage[] = [];
      store.onEdited((m) => heard.push(m));
      const a = await store.append({ ...msg('ed', 'first'), author: 'user:ann', verified: true });
      const b = await store.append(msg('ed', 'second'));
      expect(await store.edit('other-room', a.id, 'nope')).toBeNull(); // a message is edited in its own room only
      expect(await store.edit('ed', '123', 'nope')).toBeNull();
      const from = Date.now();
      const edited = await store.edit('ed', a.id, 'first, edited\nover two lines');
      expect(edited).toMatchObject({ id: a.id, room: 'ed', name: 'tester', text: 'first, edited\nover two lines', ts: a.ts, author: 'user:ann', verified: true });
      expect(edited!.edited).toBeGreaterThanOrEqual(Math.min(from, a.ts));
      expect(edited!.edited).toBeLessThanOrEqual(Date.now() + 1000);
      expect(await store.find('ed', a.id)).toEqual(edited);
      const shown = (list: ChatMessage[]) => list.map((m) => [m.text, m.edited]);
      const expected = [['first, edited\nover two lines', edited!.edited], ['second', undefined]];
      expect(shown(await store.recent('ed', 10))).toEqual(expected);
      expect(shown((await store.since('ed', '0', 10)).messages)).toEqual(expected);
      expect(shown((await store.before('ed', b.id, 10)).messages)).toEqual(expected.slice(0, 1));
      expect('edited' in (await store.recent('ed', 10))[1]!).toBe(false); // never edited: no `edited` at all
      await waitFor(() => heard.length > 0, 'the edit told to listeners'); // Redis: through its channel, to the editor too
      expect(heard).toEqual([edited!]);
      const again = await store.edit('ed', a.id, 'third text');
      expect((await store.find('ed', a.id))?.text).toBe('third text');
      expect(again!.edited).toBeGreaterThanOrEqual(edited!.edited!);
      await waitFor(() => heard.length > 1, 'the second edit told');
      expect(heard.map((m) => m.text)).toEqual(['first, edited\nover two lines', 'third text']);
      expect(await store.remove('ed', b.id)).toBe(true);
      expect(await store.edit('ed', b.id, 'too late')).toBeNull(); // a deleted message cannot be edited
      await store.close();
    });

    it('keeps the quote a reply answers, in every read', async () => {
      const store = await make();
      const replyTo = { id: '1', name: 'ann', text: 'the question' };
      const reply = await store.append({ ...msg('quotes', 'the answer'), replyTo });
      await store.append(msg('quotes', 'no answer'));
      expect(reply.replyTo).toEqual(replyTo);
      expect((await store.recent('quotes', 10)).map((m) => m.replyTo)).toEqual([replyTo, undefined]);
      expect((await store.find('quotes', reply.id))?.replyTo).toEqual(replyTo);
      await store.close();
    });

    it('lists the rooms that keep messages, newest first, each with its newest message', async () => {
      const store = await make();
      const a = await store.append(msg('list-a', 'one'));
      const b = await store.append(msg('list-b', 'two'));
      const a2 = await store.append(msg('list-a', 'three'));
      expect(await store.rooms(10)).toEqual([
        { room: 'list-a', lastId: a2.id, last: a2.ts },
        { room: 'list-b', lastId: b.id, last: b.ts },
      ]);
      expect((await store.rooms(1)).map((r) => r.room)).toEqual(['list-a']);
      await store.remove('list-b', b.id); // a room whose messages are all deleted keeps none to list
      expect((await store.rooms(10)).map((r) => r.room)).toEqual(['list-a']);
      expect(a.id).toBeTruthy();
      await store.close();
    });

    it('keeps only the retained messages and reports a gap for an older position', async () => {
      const store = await make(100);
      const all: ChatMessage[] = [];
      for (let i = 0; i < 300; i++) all.push(await store.append(msg('r', `t${i}`)));
      const kept = await store.recent('r', 1000);
      expect(kept.length).toBeGreaterThanOrEqual(100);
      expect(kept.length).toBeLessThan(300);
      expect(kept.at(-1)!.text).toBe('t299');
      const old = await store.since('r', all[0]!.id, 1000);
      expect(old.gap).toBe(true);
      expect(old.messages[0]!.text).toBe(kept[0]!.text);
      expect((await store.since('r', kept[0]!.id, 10)).gap).toBe(false);
      await store.close();
    });

    it('searches a room: every word, in any order and any case, as a word or its start; newest first', async () => {
      const store = await make();
      const a = await store.append(msg('find', 'The Quick brown FOX jumps'));
      const b = await store.append(msg('find', 'a lazy dog, NOT quick at all'));
      const other = await store.append(msg('find-other', 'quick fox of another room'));
      const c = await store.append(msg('find', 'Ünïcode: ÉCOLE naïve, ΟΔΥΣΣΕΥΣ'));
      const d = await store.append(msg('find', 'to be deleted: quick fox'));
      const e = await store.append(msg('find', 'old words here'));
      const f = await store.append(msg('find', 'near the fox, or the "quick" one*'));
      const ids = async (query: string, limit = 10) => (await store.search('find', query, limit)).map((m) => m.id);
      expect(await ids('fox quick')).toEqual([f.id, d.id, a.id]);
      expect(await ids('QUICK')).toEqual([f.id, d.id, b.id, a.id]);
      expect(await ids('qui')).toEqual([f.id, d.id, b.id, a.id]); // the start of a word
      expect(await ids('uick')).toEqual([]); // not the inside of one
      expect(await ids('quick', 2)).toEqual([f.id, d.id]); // the newest `limit`
      expect(await ids('école')).toEqual([c.id]);
      expect(await ids('ecole NAIVE unicode')).toEqual([c.id]); // accents and case aside
      expect(await ids('οδυσσευς')).toEqual([c.id]);
      expect(await ids('another')).toEqual([]); // other rooms are not searched
      expect((await store.search('find-other', 'fox quick', 10)).map((m) => m.id)).toEqual([other.id]);
      expect(await store.search('nowhere', 'quick', 10)).toEqual([]);
      expect((await store.search('find', 'jumps', 10))[0]).toEqual((await store.find('find', a.id))!); // the message whole

      expect(await store.remove('find', d.id)).toBe(true);
      expect(await ids('fox')).toEqual([f.id, a.id]); // deleted: no longer found
      const edited = await store.edit('find', e.id, 'new wording entirely');
      expect(await ids('wording new')).toEqual([e.id]); // edited: found by its new words
      expect((await store.search('find', 'wording', 10))[0]).toMatchObject({ text: 'new wording entirely', edited: edited!.edited });
      expect(await ids('old words')).toEqual([]); // and no longer by its old ones

      // FTS5 syntax is nothing but words: quotes, stars, NEAR(), OR, AND, NOT, columns, carets, parentheses.
      expect(await ids('"quick')).toEqual([f.id, b.id, a.id]);
      expect(await ids('"quick" fox*')).toEqual([f.id, a.id]);
      expect(await ids('NEAR(fox quick)')).toEqual([f.id]); // the word "near" too
      expect(await ids('quick OR lazy')).toEqual([]); // no message has all three words
      expect(await ids('NOT quick')).toEqual([b.id]);
      expect(await ids('lazy AND')).toEqual([]);
      for (const query of ['"', '""', '*', '"*"', 'quick"', 'NEAR(', 'text:quick', '^quick', '-quick', '+ ( ) { } : ^ *', "it's \"odd\"", 'a"b"c', '\\', 'OR', 'AND NOT', 'rowid:1']) {
        const found = await store.search('find', query, 10); // never an error
        expect(Array.isArray(found)).toBe(true);
      }
      expect(await ids('* " ( )')).toEqual([]); // no word at all: nothing
      await store.close();
    });
  });
}

describe('store: sqlite durability', () => {
  it('keeps history and continues ids after reopening the same directory', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = createSqliteStore({ dir: dir.path });
    const a = await first.append(msg('r', 'before'));
    await first.close();
    const second = createSqliteStore({ dir: dir.path });
    expect((await second.recent('r', 10)).map((m) => m.text)).toEqual(['before']);
    const b = await second.append(msg('r', 'after'));
    expect(compareIds(b.id, a.id)).toBeGreaterThan(0);
    await second.close();
  });

  it('adds the verified column to a database from before it, the older messages saying nothing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = createSqliteStore({ dir: dir.path });
    await first.append(msg('r', 'before the mark'));
    await first.close();
    const db = openSqlite(`${dir.path}/chat.sqlite`);
    db.exec('PRAGMA busy_timeout = 5000'); // the closed store's threads may still be letting go of the file
    db.exec('ALTER TABLE messages DROP COLUMN verified'); // as a database made before the column
    db.exec('ALTER TABLE messages DROP COLUMN author');
    db.exec('ALTER TABLE messages DROP COLUMN edited');
    db.close();
    const second = createSqliteStore({ dir: dir.path });
    await second.append({ ...msg('r', 'signed'), verified: true });
    const held = await second.recent('r', 10);
    expect(held.map((m) => [m.text, m.verified])).toEqual([['before the mark', undefined], ['signed', true]]);
    expect('edited' in held[0]!).toBe(false);
    expect((await second.edit('r', held[0]!.id, 'edited after the mark'))?.text).toBe('edited after the mark');
    await second.close();
  });

  it('indexes for search the messages of a database from before the index, once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = createSqliteStore({ dir: dir.path });
    const old = await first.append(msg('r', 'written before the index'));
    await first.close();
    const db = openSqlite(`${dir.path}/chat.sqlite`);
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('DROP TABLE IF EXISTS messages_fts'); // as a database made before the index
    for (const on of ['insert', 'delete', 'update']) db.exec(`DROP TRIGGER IF EXISTS messages_fts_${on}`);
    db.close();
    const second = createSqliteStore({ dir: dir.path });
    const now = await second.append(msg('r', 'written after the index'));
    expect((await second.search('r', 'written index', 10)).map((m) => m.id)).toEqual([now.id, old.id]);
    await second.close();
  });
});

describe('compareIds', () => {
  it('orders integer and stream ids numerically', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('10', '10')).toBe(0);
    expect(compareIds('1700000000000-2', '1700000000000-10')).toBeLessThan(0);
    expect(compareIds('1700000000001-0', '1700000000000-10')).toBeGreaterThan(0);
  });
});
