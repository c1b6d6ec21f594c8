/** The commands of `bun run user`, each on an identity store opened by scripts/user.ts. */
import { durationMs } from '../../lib/config.ts';
import { ACCESS_LEVELS, ACCOUNT_NAME, ROOM_PATTERN, type AccessLevel } from '../../lib/identity.ts';
import { hashPassword, passwordProblem } from '../../lib/passwords.ts';
import { digestOf, newSecret } from '../../lib/secrets.ts';
import type { Account, IdentityStore } from '../../store/identity-types.ts';
import { readPassword } from './password-input.ts';
import { UsageError } from './errors.ts';

export { UsageError };

export const HELP = `Usage: bun run user <command> [options]

Accounts for --auth accounts, kept in the server's store: run it with the same --store and --data (or
CHAT_STORE, REDIS_URL, CHAT_DATA) as the server. It works while servers run on that store; they see a change
within a second or two, and the sessions and streams it revokes end.

Commands:
  add NAME [--admin] [--password-stdin]   a new account (asks for the password twice on a terminal);
                                          it may read and write every room until "access" says otherwise
  del NAME                                removes the account, its access tokens and its sessions
  list                                    every account: admin or not, its access rules, when it was made
  passwd NAME [--password-stdin]          a new password; every session of NAME ends (access tokens stay)
  access NAME ROOM-PATTERN LEVEL          LEVEL is read-write, read-only or deny, in rooms matching the pattern
                                          ("team-*", "*"); the most specific pattern wins
  token NAME [--expires 30d]              a new access token for curl (Authorization: Bearer ...), printed once
                                          as the last line; --expires takes 30m, 12h, 90d (default: never)
  revoke NAME [TOKEN]                     revokes that access token of NAME, or all of NAME's tokens

Options:
  --store sqlite|redis://HOST:PORT/DB     the server's store (default sqlite; a memory store cannot be reached)
  --data DIR                              the server's data folder for sqlite (default ./data)
  -h, --help                              this help

Names are 1-32 of a-z, 0-9, _, . and -. Passwords are 12 to 128 characters, any characters.
`;

export interface CommandOptions {
  admin: boolean;
  passwordStdin: boolean;
  expires: string | null;
}

type Command = (identity: IdentityStore, args: string[], options: CommandOptions) => Promise<void>;

const say = (line: string) => process.stdout.write(`${line}\n`);

function expectArgs(args: string[], names: string[]): string[] {
  if (args.length !== names.length) throw new UsageError(`expected ${names.join(' ')}, got ${args.length ? args.join(' ') : 'nothing'}`);
  return args;
}

async function existing(identity: IdentityStore, name: string): Promise<Account> {
  const account = await identity.getAccount(name);
  if (!account) throw new UsageError(`there is no account "${name}" (see: bun run user list)`);
  return account;
}

async function newPasswordHash(name: string, fromStdin: boolean): Promise<string> {
  const password = await readPassword(name, fromStdin);
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(`${problem}: nothing was changed`);
  return hashPassword(password);
}

const rulesText = (account: Account) => Object.entries(account.access).map(([p, l]) => `${p}=${l}`).join(',') || 'none';

export const COMMANDS: Record<string, Command> = {
  async add(identity, args, options) {
    const [name] = expectArgs(args, ['NAME']);
    if (!ACCOUNT_NAME.test(name!)) throw new UsageError(`"${name}" is not a name: 1-32 of a-z, 0-9, _, . and -, starting with a letter or digit`);
    if (await identity.getAccount(name!)) throw new UsageError(`"${name}" has an account already (a new password: bun run user passwd ${name})`);
    const passwordHash = await newPasswordHash(name!, options.passwordStdin);
    await identity.putAccount({ name: name!, passwordHash, admin: options.admin, access: { '*': 'read-write' }, created: Date.now() });
    say(`added ${name}${options.admin ? ' (admin)' : ''}: may read and write every room (change it: bun run user access ${name} PATTERN LEVEL)`);
  },
  async del(identity, args) {
    const [name] = expectArgs(args, ['NAME']);
    if (!(await identity.deleteAccount(name!))) throw new UsageError(`there is no account "${name}"`);
    say(`deleted ${name}: its tokens and sessions are revoked, its open streams end`);
  },
  async list(identity, args) {
    expectArgs(args, []);
    const accounts = await identity.listAccounts();
    if (accounts.length === 0) say('no accounts (add one: bun run user add NAME)');
    for (const a of accounts) say(`${a.name}\t${a.admin ? 'admin' : 'user'}\taccess ${rulesText(a)}\tsince ${new Date(a.created).toISOString()}`);
  },
  async passwd(identity, args, options) {
    const [name] = expectArgs(args, ['NAME']);
    const account = await existing(identity, name!);
    const passwordHash = await newPasswordHash(name!, options.passwordStdin);
    await identity.putAccount({ ...account, passwordHash });
    const ended = await identity.deleteSessionsOf(`user:${name}`);
    say(`changed the password of ${name}: ${ended} session(s) ended`);
  },
  async access(identity, args) {
    const [name, pattern, level] = expectArgs(args, ['NAME', 'ROOM-PATTERN', 'LEVEL']);
    if (!ROOM_PATTERN.test(pattern!)) throw new UsageError(`"${pattern}" is not a room pattern: 1-64 of letters, digits, _, - and *`);
    if (!ACCESS_LEVELS.includes(level as AccessLevel)) throw new UsageError(`"${level}" is not a level: ${ACCESS_LEVELS.join(', ')}`);
    await existing(identity, name!);
    await identity.setAccess(name!, pattern!, level as AccessLevel);
    say(`${name}: ${level} in rooms matching ${pattern}`);
  },
  async token(identity, args, options) {
    const [name] = expectArgs(args, ['NAME']);
    await existing(identity, name!);
    const lasts = options.expires === null ? null : durationMs(options.expires);
    if (lasts === null && options.expires !== null) throw new UsageError(`--expires "${options.expires}" is not a duration such as 30m, 12h or 90d`);
    const token = newSecret('tc_');
    const now = Date.now();
    const expires = lasts === null ? null : now + lasts;
    await identity.addAccessToken(digestOf(token), { name: name!, created: now, expires });
    say(`an access token for ${name}, ${expires === null ? 'never expiring' : `expiring ${new Date(expires).toISOString()}`}; it is shown this once:`);
    say(token);
  },
  async revoke(identity, args) {
    if (args.length < 1 || args.length > 2) throw new UsageError('expected NAME [TOKEN]');
    const [name, token] = args;
    await existing(identity, name!);
    const count = await identity.revokeAccessTokens(name!, token === undefined ? undefined : digestOf(token));
    if (token !== undefined && count === 0) throw new UsageError(`that is not one of ${name}'s tokens (nothing was revoked)`);
    say(`revoked ${count} access token(s) of ${name}`);
  },
};
