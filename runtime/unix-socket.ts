/**
 * The socket file of `--listen unix:PATH`, on both runtimes: claimed before the listen (a stale one left by a
 * killed server removed, a live one or any other file refused), and created 0660 so that only its owner and its
 * group (the reverse proxy's user) can connect: no other process of the machine can reach the server and say
 * whatever it likes in X-Forwarded-For.
 */
import { chmodSync, lstatSync, statSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** The socket's mode: read-write for its owner and group, nothing for others (connecting needs write). */
export const SOCKET_MODE = 0o660;
/** How long a connect to an existing socket may take before it counts as answered (a server too busy to accept). */
const PROBE_MS = 2000;

/** The socket cannot be had (a live server on it, another kind of file, no folder): one line, and the start stops (exit 2). */
export class UnixSocketError extends Error {
  override name = 'UnixSocketError';
}

/**
 * Makes `path` free for a listen: nothing there, or a socket that nothing answers on (a server killed with -9
 * leaves its socket file behind; it is removed). A socket something answers on, or a file that is no socket, is
 * never touched: UnixSocketError.
 */
export async function claimSocketPath(path: string): Promise<void> {
  const where = `--listen unix:${path}`;
  const folder = dirname(path);
  try {
    if (!statSync(folder).isDirectory()) throw new UnixSocketError(`${where}: ${folder} is not a folder`);
  } catch (error) {
    if (error instanceof UnixSocketError) throw error;
    throw new UnixSocketError(`${where}: the folder ${folder} cannot be used (${codeOf(error)}); create it for this user (systemd: RuntimeDirectory=)`);
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw new UnixSocketError(`${where}: cannot look at it (${codeOf(error)})`);
  }
  if (!isSocket) throw new UnixSocketError(`${where}: ${path} exists and is not a socket; remove it or listen elsewhere`);
  const answer = await probe(path);
  if (answer === 'answers') throw new UnixSocketError(`${where}: another server answers on this socket; stop it first, or listen elsewhere`);
  if (answer !== 'refused') throw new UnixSocketError(`${where}: cannot tell whether a server answers on this socket (${answer}); remove it if none does`);
  try {
    unlinkSync(path); // stale: nobody listens on it
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw new UnixSocketError(`${where}: cannot remove the stale socket (${codeOf(error)})`);
  }
}

/**
 * Runs `listen` (which must bind at once, as Bun.serve and node:net's listen on a path do) with a umask that
 * creates the socket 0660, then sets the mode all the same: no moment in which others could connect whatever
 * the umask, and a runtime that ignored the umask is corrected.
 */
export function listenOnSocket<T>(path: string, listen: () => T): T {
  const before = process.umask(0o777 & ~SOCKET_MODE);
  let listening: T;
  try {
    listening = listen();
  } finally {
    process.umask(before);
  }
  chmodSync(path, SOCKET_MODE);
  return listening;
}

/** Whether something accepts a connection on the socket at `path`: 'answers', 'refused' (stale), or the error's code. */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // A listener whose backlog is full makes the connect wait (or fail with EAGAIN): it is alive all the same.
    const timer = setTimeout(() => done('answers'), PROBE_MS);
    socket.once('connect', () => done('answers'));
    socket.once('error', (error) => {
      const code = codeOf(error);
      // ENOENT: it went away meanwhile, which leaves the path as free as a stale socket would.
      done(code === 'ECONNREFUSED' || code === 'ENOENT' ? 'refused' : code === 'EAGAIN' ? 'answers' : code);
    });
  });
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException)?.code ?? String(error);
