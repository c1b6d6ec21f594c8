/**
 * `bun run user <command>`: the accounts of `--auth accounts`, edited in the server's own store (`--store`,
 * `--data` and their variables), beside servers running on it: they read accounts, tokens and sessions from the
 * store on each request and hear revocations within a second or two (store/identity-types.ts). The commands and
 * their checks are in scripts/user/.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { openIdentityStore } from '../store/index.ts';
import { COMMANDS, HELP, UsageError } from './user/commands.ts';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      store: { type: 'string' },
      data: { type: 'string' },
      admin: { type: 'boolean' },
      'password-stdin': { type: 'boolean' },
      expires: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [name, ...args] = positionals;
  if (values.help || !name) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`"${name}" is not a command: ${Object.keys(COMMANDS).join(', ')}`);
  // Only the store's options and variables: the rest of the server's settings are not this command's concern.
  const storeArgs = [...(values.store ? ['--store', values.store] : []), ...(values.data ? ['--data', values.data] : [])];
  const env = { CHAT_STORE: process.env.CHAT_STORE, REDIS_URL: process.env.REDIS_URL, CHAT_DATA: process.env.CHAT_DATA };
  const config = loadConfig(storeArgs, env);
  const identity = await openIdentityStore(config);
  try {
    await command(identity, args, { admin: values.admin ?? false, passwordStdin: values['password-stdin'] ?? false, expires: values.expires ?? null });
  } finally {
    await identity.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`user: ${(error as Error)?.message ?? String(error)}\n${usage ? 'Run with --help to see every command.\n' : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
