import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startServer, tempDir, waitFor, type ServerProcess } from '../helpers.ts';

describe('curl as a client', () => {
  const data = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path]);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it("posts with `curl -d 'hello' '…?name=alice'` and streams readable lines with `curl -N`", async () => {
    const posted = Bun.spawnSync(['curl', '-sS', '-d', 'hello', `${server.url}/rooms/curl/messages?name=alice`]);
    expect(posted.exitCode).toBe(0);
    expect(JSON.parse(posted.stdout.toString())).toMatchObject({ name: 'alice', text: 'hello' });

    const watcher = Bun.spawn(['curl', '-sSN', `${server.url}/rooms/curl/events?format=text`], { stdout: 'pipe' });
    let out = '';
    void (async () => {
      for await (const chunk of watcher.stdout) out += new TextDecoder().decode(chunk);
    })();
    await waitFor(() => out.includes('alice: hello'), 'the history line in curl');
    Bun.spawnSync(['curl', '-sS', '-d', 'second line', `${server.url}/rooms/curl/messages?name=bob`]);
    await waitFor(() => out.includes('bob: second line'), 'the live line in curl');
    expect(out).toMatch(/data: \[\d\d:\d\d:\d\d\] alice: hello\n/);
    watcher.kill();
    await watcher.exited;
  });
});
