import type { AccessLevel } from '../lib/identity.ts';
import { createEmitter } from './emitter.ts';
import { MAX_READ_ROOMS, type AccessToken, type Account, type IdentityChange, type IdentityStore, type Session } from './identity-types.ts';
import { compareIds } from './types.ts';

/** Sessions kept at the most; past it the oldest are dropped (they sign in again). Bounds what sign-ins can grow. */
const MAX_SESSIONS = 100_000;

/** The reference identity store, in process memory (the memory store's; also what the conformance suite checks first). */
export function createMemoryIdentity(): IdentityStore {
  const accounts = new Map<string, Account>();
  const tokens = new Map<string, AccessToken>();
  const sessions = new Map<string, Session>(); // insertion order: the oldest first
  /** Subject → room → id, each subject's rooms in the order they were last updated (the oldest first). */
  const reads = new Map<string, Map<string, string>>();
  const changes = createEmitter<IdentityChange>();
  const subjectOf = (name: string) => `user:${name}`;

  const deleteSessionsOf = (subject: string) => {
    let n = 0;
    for (const [digest, session] of sessions) if (session.subject === subject && sessions.delete(digest)) n++;
    return n;
  };

  return {
    async putAccount(account) {
      const before = accounts.get(account.name);
      accounts.set(account.name, structuredClone(account));
      if (before) changes.emit({ subject: subjectOf(account.name) });
    },
    async getAccount(name) {
      const account = accounts.get(name);
      return account ? structuredClone(account) : null;
    },
    async listAccounts() {
      return [...accounts.values()].map((a) => structuredClone(a)).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async deleteAccount(name) {
      reads.delete(subjectOf(name));
      if (!accounts.delete(name)) return false;
      for (const [digest, token] of tokens) if (token.name === name) tokens.delete(digest);
      deleteSessionsOf(subjectOf(name));
      changes.emit({ subject: subjectOf(name) });
      return true;
    },
    async setAccess(name, pattern, level: AccessLevel | null) {
      const account = accounts.get(name);
      if (!account) return false;
      const access = { ...account.access };
      if (level === null) delete access[pattern];
      else access[pattern] = level;
      accounts.set(name, { ...account, access });
      changes.emit({ subject: subjectOf(name) });
      return true;
    },
    async addAccessToken(digest, token) {
      tokens.set(digest, { ...token });
    },
    async findAccessToken(digest) {
      const token = tokens.get(digest);
      return token && (token.expires === null || token.expires > Date.now()) ? { ...token } : null;
    },
    async revokeAccessTokens(name, digest) {
      let n = 0;
      for (const [d, token] of tokens) if (token.name === name && (digest === undefined || d === digest) && tokens.delete(d)) n++;
      if (n) changes.emit({ subject: subjectOf(name) });
      return n;
    },
    async putSession(digest, session) {
      sessions.delete(digest);
      sessions.set(digest, { ...session });
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    },
    async getSession(digest, idleMs) {
      const session = sessions.get(digest);
      if (!session) return null;
      const now = Date.now();
      if (session.expires <= now || session.seen + idleMs <= now) {
        sessions.delete(digest);
        return null;
      }
      return { ...session };
    },
    async touchSession(digest, seen) {
      const session = sessions.get(digest);
      if (session) session.seen = seen;
    },
    async deleteSession(digest) {
      const session = sessions.get(digest);
      if (session && sessions.delete(digest)) changes.emit({ subject: session.subject, session: digest });
    },
    async deleteSessionsOf(subject) {
      const n = deleteSessionsOf(subject);
      if (n) changes.emit({ subject });
      return n;
    },
    async setReadPosition(subject, room, id) {
      let rooms = reads.get(subject);
      if (!rooms) reads.set(subject, (rooms = new Map()));
      const held = rooms.get(room);
      if (held !== undefined && compareIds(held, id) >= 0) return;
      rooms.delete(room); // re-inserted: the newest update last
      rooms.set(room, id);
      if (rooms.size > MAX_READ_ROOMS) rooms.delete(rooms.keys().next().value!);
    },
    async readPositions(subject) {
      return Object.fromEntries(reads.get(subject) ?? []);
    },
    onIdentityChange: changes.subscribe,
  };
}
