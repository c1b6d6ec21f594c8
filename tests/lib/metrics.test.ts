import { describe, expect, it } from 'bun:test';
import { createRegistry } from '../../lib/metrics.ts';
import { instrumentStore } from '../../store/instrumented.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { histogram, parseMetrics, sample } from '../prometheus.ts';

describe('metrics registry', () => {
  it('renders counters, labelled counters, gauges and cumulative histograms that parse as Prometheus text', () => {
    const registry = createRegistry();
    const requests = registry.counter('demo_requests_total', 'requests');
    const byClass = registry.counters('demo_responses_total', 'responses by class', 'class', ['2xx', '5xx']);
    let level = 7;
    registry.gauge('demo_level', 'a level\nwith a line break', () => level);
    const latency = registry.histogram('demo_seconds', 'latency', [0.01, 0.1, 1]);
    requests.inc();
    requests.inc(2);
    byClass['5xx'].inc();
    for (const v of [0.005, 0.01, 0.05, 0.5, 3]) latency.observe(v);
    level = 9;

    const text = registry.render();
    expect(text).toContain('demo_seconds_bucket{le="0.01"} 2\n'); // an observation equal to a bound is in it
    expect(text).toContain('demo_seconds_bucket{le="0.1"} 3\n');
    expect(text).toContain('demo_seconds_bucket{le="1"} 4\n');
    expect(text).toContain('demo_seconds_bucket{le="+Inf"} 5\n');
    const scrape = parseMetrics(text);
    expect(sample(scrape, 'demo_requests_total')).toBe(3);
    expect(sample(scrape, 'demo_responses_total', { class: '2xx' })).toBe(0);
    expect(sample(scrape, 'demo_responses_total', { class: '5xx' })).toBe(1);
    expect(sample(scrape, 'demo_level')).toBe(9); // read when scraped
    expect(scrape.get('demo_level')!.type).toBe('GAUGE');
    expect(histogram(scrape, 'demo_seconds').count).toBe(5);
    expect(histogram(scrape, 'demo_seconds').sum).toBeCloseTo(3.565);
  });

  it('refuses a bad or repeated name', () => {
    const registry = createRegistry();
    registry.counter('ok_total', 'x');
    expect(() => registry.counter('ok_total', 'x')).toThrow('twice');
    expect(() => registry.counter('not-ok', 'x')).toThrow('bad metric name');
  });
});

describe('instrumented store', () => {
  it('counts appends that succeed and calls that fail, and passes results through', async () => {
    const registry = createRegistry();
    const appended = registry.counter('appended_total', 'x');
    const errors = registry.counters('errors_total', 'x', 'op', ['append', 'since', 'before', 'recent']);
    const memory = createMemoryStore();
    const failing = { ...memory, since: () => Promise.reject(new Error('disk on fire')) };
    const store = instrumentStore(failing, { appended, errors });
    const saved = await store.append({ room: 'r', name: 'n', text: 't', client: null });
    expect((await store.recent('r', 5)).map((m) => m.id)).toEqual([saved.id]);
    await expect(store.since('r', '0', 5)).rejects.toThrow('disk on fire');
    await expect(store.since('r', '0', 5)).rejects.toThrow('disk on fire');
    expect(appended.value).toBe(1);
    expect(errors.since.value).toBe(2);
    expect(errors.append.value).toBe(0);
  });
});
