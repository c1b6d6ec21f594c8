import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/**
 * A bench command's options from argv, with `--help` added: it prints `help` and exits 0. An unknown option or a
 * missing value exits 2 with parseArgs' reason, which names it.
 */
export function benchOptions<const O extends ParseArgsOptionsConfig>(help: string, options: O) {
  const parse = () => parseArgs({ args: process.argv.slice(2), options: { ...options, help: { type: 'boolean', default: false } } as const });
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message} (see --help)\n`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    process.exit(0);
  }
  return values;
}
