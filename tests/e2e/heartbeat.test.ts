import { describe, expect, it } from 'bun:test';
import { post, startServer, waitFor } from '../helpers.ts';

/** Bun.serve's idle timeout in runtime/bun.ts: a connection without bytes for this long is closed, unless it is a stream. */
const SERVER_IDLE_TIMEOUT_MS = 30_000;

describe('heartbeats', () => {
  it('keep a quiet stream open past the idle timeout, one comment every --heartbeat', async () => {
    const server = await startServer(['--store', 'memory', '--heartbeat', '1000']);
    try {
      const res = await fetch(`${server.url}/rooms/quiet/events?history=0`);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const beats: number[] = [];
      let text = '';
      const started = Date.now();
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
          const seen = text.split(': keep-alive\n\n').length - 1;
          while (beats.length < seen) beats.push(Date.now());
        }
      })();
      await waitFor(() => Date.now() - started > SERVER_IDLE_TIMEOUT_MS + 2000 && beats.length > 0, 'the idle timeout to pass', SERVER_IDLE_TIMEOUT_MS + 10_000);
      // About one a second, never a long silence (generous for a loaded machine).
      expect(beats.length).toBeGreaterThanOrEqual(20);
      const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
      expect(Math.max(...gaps)).toBeLessThan(5000);
      // Still open: a message posted now arrives on it.
      const m = await post(server.url, 'quiet', { name: 'a', text: 'still here' });
      await waitFor(() => text.includes(`id: ${m.id}\n`), 'the message on the quiet stream');
      await reader.cancel();
      await reading.catch(() => {});
    } finally {
      await server.stop();
    }
  }, 60_000);
});
