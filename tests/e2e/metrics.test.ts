import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { openStream, post, startServer, tempDir, waitFor, type ServerProcess, type Stream } from '../helpers.ts';
import { histogram, sample, scrapeMetrics } from '../prometheus.ts';

const presenceCount = (s: Stream, n: number) => s.events.some((e) => e.event === 'presence' && JSON.parse(e.data).count === n);

describe('GET /metrics', () => {
  const data = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(['--data', data.path, '--post-rate', '0', '--post-rate-ip', '0']);
  });
  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('moves each counter by what happened between two scrapes', async () => {
    const room = 'counted';
    const alice = await openStream(`${server.url}/rooms/${room}/events?client=alice&history=0`);
    const bob = await openStream(`${server.url}/rooms/${room}/events?client=bob&history=0`);
    // Both streams have seen both joins: no presence event is still on its way when counting starts.
    await alice.next(() => presenceCount(alice, 2), 'two present at alice');
    await bob.next(() => presenceCount(bob, 2), 'two present at bob');
    const before = await scrapeMetrics(server.url);
    expect(sample(before, 'threadchat_streams_open')).toBe(2);
    expect(sample(before, 'threadchat_worker_threads')).toBeGreaterThanOrEqual(2);
    expect(sample(before, 'threadchat_worker_threads_idle')).toBeLessThanOrEqual(sample(before, 'threadchat_worker_threads') - 2);

    // 5 messages from carol reach both streams; 1 from alice reaches bob only (a client's own is not echoed).
    const sent: { id: string }[] = [];
    for (let i = 0; i < 5; i++) sent.push(await post(server.url, room, { name: 'carol', text: `m${i}` }, { 'X-Client-Id': 'carol' }));
    sent.push(await post(server.url, room, { name: 'alice', text: 'mine' }, { 'X-Client-Id': 'alice' }));
    const refused = await fetch(`${server.url}/rooms/${room}/messages`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":""}' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    await alice.next((e) => e.id === sent[4]!.id, 'the last of carol at alice');
    await bob.next((e) => e.id === sent[5]!.id, 'alice at bob');
    const after = await scrapeMetrics(server.url);

    const delta = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('threadchat_messages_appended_total')).toBe(6);
    expect(delta('threadchat_deliveries_total')).toBe(5 * 2 + 1);
    expect(delta('threadchat_http_responses_total', { class: '2xx' })).toBe(6 + 1); // the posts and the first scrape
    expect(delta('threadchat_http_responses_total', { class: '4xx' })).toBe(1);
    expect(delta('threadchat_http_responses_total', { class: '5xx' })).toBe(0);
    expect(delta('threadchat_store_errors_total', { op: 'append' })).toBe(0);
    const posts = histogram(after, 'threadchat_post_duration_seconds');
    expect(posts.count - histogram(before, 'threadchat_post_duration_seconds').count).toBe(6);
    expect(posts.sum).toBeGreaterThan(histogram(before, 'threadchat_post_duration_seconds').sum);
    // Timed once per stream per drain: at least once, at most once per delivery.
    const fanout = histogram(after, 'threadchat_fanout_duration_seconds').count - histogram(before, 'threadchat_fanout_duration_seconds').count;
    expect(fanout).toBeGreaterThanOrEqual(1);
    expect(fanout).toBeLessThanOrEqual(11);

    alice.close();
    await waitFor(async () => sample(await scrapeMetrics(server.url), 'threadchat_streams_open') === 1, 'one stream open');
    const closed = await scrapeMetrics(server.url);
    expect(sample(closed, 'threadchat_streams_ended_total', { reason: 'closed' }) - sample(after, 'threadchat_streams_ended_total', { reason: 'closed' })).toBe(1);
    bob.close();
  });

  it('counts a client that stops reading as a stream ended slow', async () => {
    const slowServer = await startServer(['--store', 'memory', '--slow-ms', '300', '--post-rate', '0', '--post-rate-ip', '0', '--quota-bytes-day', '0']);
    // Sends its request, then never reads: its socket buffers, response queue and ring fill up.
    const stalled = Bun.spawn(['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${slowServer.port}; printf 'GET /rooms/slow/events?history=0 HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3; sleep 60`]);
    try {
      await waitFor(async () => sample(await scrapeMetrics(slowServer.url), 'threadchat_streams_open') === 1, 'the stalled stream');
      const slow = async () => sample(await scrapeMetrics(slowServer.url), 'threadchat_streams_ended_total', { reason: 'slow' });
      expect(await slow()).toBe(0);
      const text = 'x'.repeat(3900);
      // Bounded: 4,000 messages of 4 KB (16 MB) is far more than a connection's buffers hold.
      for (let i = 0; i < 4000 && (i % 100 !== 0 || (await slow()) === 0); i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => post(slowServer.url, 'slow', { text: `${i + j} ${text}` })));
      }
      await waitFor(async () => (await slow()) === 1, 'the stalled stream to be ended as slow');
      expect(sample(await scrapeMetrics(slowServer.url), 'threadchat_streams_open')).toBe(0);
    } finally {
      stalled.kill();
      await slowServer.stop();
    }
  });
});
