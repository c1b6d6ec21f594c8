/** Reading /metrics in tests: parsed with parse-prometheus-text-format, then checked for the shape Prometheus needs. */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export type Scrape = Map<string, ParsedFamily>;

/**
 * Parses the text format and checks what the lenient parser lets through: every sample belongs to a family
 * declared with HELP and TYPE, values are numbers, histogram buckets are cumulative and end at +Inf = count.
 */
export function parseMetrics(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const declared = new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge|histogram)$/gm)].map((m) => m[1]));
  const scrape: Scrape = new Map();
  for (const family of families) {
    if (!declared.has(family.name)) throw new Error(`${family.name}: samples without a # TYPE line`);
    if (scrape.has(family.name)) throw new Error(`${family.name}: declared twice`);
    for (const sample of family.metrics) {
      if (family.type === 'HISTOGRAM') {
        // By bound: an object's integer-like keys ("1") come before the others whatever the text's order.
        const counts = Object.entries(sample.buckets ?? {})
          .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const)
          .sort((a, b) => a[0] - b[0]);
        if (counts.length === 0) throw new Error(`${family.name}: no buckets`);
        for (let i = 1; i < counts.length; i++) {
          if (counts[i]![0] === counts[i - 1]![0] || counts[i]![1] < counts[i - 1]![1]) throw new Error(`${family.name}: buckets not cumulative`);
        }
        if (Number(sample.count) !== Number(text.match(new RegExp(`^${family.name}_bucket\\{le="\\+Inf"\\} (\\S+)$`, 'm'))?.[1])) {
          throw new Error(`${family.name}: +Inf bucket differs from _count`);
        }
        if (!Number.isFinite(Number(sample.sum))) throw new Error(`${family.name}: _sum is not a number`);
      } else if (!Number.isFinite(Number(sample.value))) throw new Error(`${family.name}: value ${sample.value} is not a number`);
    }
    scrape.set(family.name, family);
  }
  return scrape;
}

/** The value of a counter or gauge (with `labels`, the sample that has them). */
export function sample(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = scrape.get(name);
  if (!family) throw new Error(`no metric ${name}`);
  const found = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!found) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return Number(found.value ?? found.count);
}

/** A histogram's count and sum. */
export function histogram(scrape: Scrape, name: string): { count: number; sum: number } {
  const found = scrape.get(name)?.metrics[0];
  if (!found) throw new Error(`no histogram ${name}`);
  return { count: Number(found.count), sum: Number(found.sum) };
}

export async function scrapeMetrics(base: string): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`content type ${res.headers.get('content-type')}`);
  return parseMetrics(await res.text());
}
