/**
 * bin/chat when its post's answer is lost: Redis stops under the server, the server answers 503 (the write may be
 * stored), and the client tries again with the same Idempotency-Key. Once Redis goes on, the line is stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { join } from 'node:path';
import { ROOT, startServer, type ServerProcess } from '../helpers.ts';
import { startPrivateRedis, storeUrl, type PrivateRedis } from '../store/redis-helpers.ts';
import { count, createTmux, killLeftovers, processTree, type Tmux } from './terminal-helpers.ts';

const CHAT = join(ROOT, 'bin', 'chat');

describe('bin/chat sending while the store stalls', () => {
  let redis: PrivateRedis;
  let server: ServerProcess;
  let tmux: Tmux;
  const started = new Set<number>();

  beforeAll(async () => {
    redis = await startPrivateRedis();
    server = await startServer(['--store', storeUrl(redis.url, 0, 'chat-retry:')]);
    tmux = createTmux();
  });
  afterAll(async () => {
    process.kill(redis.pid(), 'SIGCONT');
    await tmux.kill();
    killLeftovers(started);
    await server.stop();
    await redis.remove();
  });

  it('retries a line with its key after a 503 and shows it, stored once', async () => {
    tmux.must('new-session', '-d', '-s', 'retry', '-x', '160', '-y', '40', `${CHAT} --url ${server.url} --room stall --name ann`);
    await tmux.waitForPane('retry', (t) => t.includes('1 here: ann'), 'ann in the room');
    for (const pid of processTree(tmux.panePid('retry'))) started.add(pid);
    process.kill(redis.pid(), 'SIGSTOP');
    try {
      tmux.type('retry', 'sent while the store stalls');
      // The server waits 5 s for Redis, then says the line may be stored; the client tries again with its key.
      await tmux.waitForPane('retry', (t) => t.includes('not stored yet (HTTP 503'), 'the 503 and the retry note', 20_000);
    } finally {
      process.kill(redis.pid(), 'SIGCONT');
    }
    const pane = await tmux.waitForPane('retry', (t) => t.includes('ann: sent while the store stalls'), 'the line, once stored', 30_000);
    expect(count(pane, 'ann: sent while the store stalls')).toBe(1);
    const history = (await (await fetch(`${server.url}/rooms/stall/messages`)).json()) as { messages: { text: string }[] };
    expect(history.messages.map((m) => m.text)).toEqual(['sent while the store stalls']);
  });
});
