/**
 * `bun run soak`: N clients chat in one room for T seconds, each keeping an SSE stream that it drops and resumes
 * with Last-Event-ID at random, then the run checks that every acknowledged message reached every other client
 * exactly once and in order. Loopback only; bounded in clients, time and settling; it stops the server it
 * started (by PID) on exit, on Ctrl-C and on error. Its parts are in scripts/soak/: the options and --help, the
 * server it starts, the clients, and the run with its tally.
 */
import { HELP, readOptions, UsageError, type Options } from './soak/options.ts';
import { soak } from './soak/run.ts';
import { startServer, type OwnServer } from './soak/server.ts';

async function main() {
  let options: Options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${error instanceof UsageError || error instanceof TypeError ? error.message : String(error)}\nRun with --help to see every option.\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let server: OwnServer | null = null;
  const stopServer = async () => server?.stop();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`soak: ${signal}, stopping\n`);
      void stopServer().finally(() => process.exit(130));
    });
  }
  try {
    server = options.url ? null : await startServer(options);
    const base = options.url ?? server!.url;
    const where = options.url ? `server ${base}` : `own server ${base} (${options.store}, pid-owned)`;
    process.stdout.write(`soak: ${options.clients} clients for ${options.seconds} s in room ${options.room} on ${where}\n`);
    const tls = server?.ca ? { ca: server.ca } : options.insecure ? ({ rejectUnauthorized: false } as const) : undefined;
    const { run, result } = await soak(options, base, tls, (line) => process.stderr.write(line + '\n'));
    for (const line of [...run.problems, ...result.missing]) process.stderr.write(`soak: ${line}\n`);
    process.stdout.write(
      `result: sent=${run.sent} acked=${run.acked.length} refused=${run.refused} failed=${run.failed} delivered=${result.delivered} ` +
        `expected=${result.expected} lost=${result.lost} duplicates=${result.duplicates} reordered=${result.reordered} echoed=${result.echoed} ` +
        `reconnects=${run.reconnects} byes=${result.byes} http5xx=${run.serverErrors}\n`,
    );
    const ok = result.lost === 0 && result.duplicates === 0 && result.reordered === 0 && result.echoed === 0 && run.acked.length > 0;
    if (run.acked.length === 0) process.stderr.write('soak: no message was acknowledged; nothing was tested\n');
    return ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    await stopServer();
  }
}

process.exit(await main());
