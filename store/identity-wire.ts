/**
 * Identity data as it is kept outside the process (Redis's JSON values and change notices, SQLite's rules column),
 * checked with zod when read back: another version, or a broken writer, must not make a reader throw later on a
 * wrong shape or trust a field that is not there. Unknown extra fields are dropped.
 */
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import type { AccessToken, Account, Session } from './identity-types.ts';

export const levelSchema = z.enum(['read-write', 'read-only', 'deny']);
export const rulesSchema = z.record(z.string(), levelSchema);

export const accountSchema: z.ZodType<Account> = z.object({
  name: z.string(),
  passwordHash: z.string(),
  admin: z.boolean(),
  access: rulesSchema,
  created: z.number(),
});

export const tokenSchema: z.ZodType<AccessToken> = z.object({ name: z.string(), created: z.number(), expires: z.number().nullable() });

export const sessionSchema: z.ZodType<Session> = z.object({
  subject: z.string(),
  name: z.string().nullable(),
  admin: z.boolean(),
  rules: rulesSchema.nullable(),
  created: z.number(),
  seen: z.number(),
  expires: z.number(),
});

/** A change as an instance publishes it: `from` tells an instance its own notices, which it has told already. */
export const noticeSchema = z.object({ from: z.string(), subject: z.string(), session: z.string().optional() });
export type IdentityNotice = z.infer<typeof noticeSchema>;

/** `text` read as JSON and checked by a schema: one reader for every value kept in Redis. */
export { readJson } from './redis-presence-wire.ts';

/** Unusable data is read as absent: this says so, at most once a minute (a bad value is read again on each use). */
export function reportUnusable(logger: Logger | undefined) {
  let since = 0;
  let reportedAt = -Infinity;
  return (what: string, problem: string) => {
    since++;
    if (Date.now() - reportedAt < 60_000) return;
    reportedAt = Date.now();
    logger?.warn('Ignoring identity data this version cannot read', { what, problem, ignored: since });
    since = 0;
  };
}
