/**
 * Counters, gauges and histograms rendered in the Prometheus text format (version 0.0.4). Small on purpose:
 * updating one is a number added in place (no allocation, no label lookup: a labelled family hands out one
 * counter per label value up front), so the per-message paths can afford them.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Counter {
  inc(by?: number): void;
  readonly value: number;
}

export interface Histogram {
  /** Records one observation, in the histogram's unit (seconds for `*_seconds`). */
  observe(value: number): void;
  readonly count: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(out: string[]): void;
}

/** Prometheus label values escape backslash, double quote and newline. */
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

function createCounter(): Counter {
  let value = 0;
  return {
    inc(by = 1) {
      value += by;
    },
    get value() {
      return value;
    },
  };
}

export function createRegistry() {
  const families: Family[] = [];
  const names = new Set<string>();
  const add = (family: Family) => {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) throw new Error(`bad metric name ${family.name}`);
    if (names.has(family.name)) throw new Error(`metric ${family.name} registered twice`);
    names.add(family.name);
    families.push(family);
  };

  return {
    counter(name: string, help: string): Counter {
      const counter = createCounter();
      add({ name, help, type: 'counter', render: (out) => out.push(`${name} ${num(counter.value)}`) });
      return counter;
    },

    /** One counter per value of one label, all created now (the values are a fixed set). */
    counters<V extends string>(name: string, help: string, label: string, values: readonly V[]): Record<V, Counter> {
      const counters = Object.fromEntries(values.map((v) => [v, createCounter()])) as Record<V, Counter>;
      add({
        name, help, type: 'counter',
        render: (out) => {
          for (const v of values) out.push(`${name}{${label}="${escapeLabel(v)}"} ${num(counters[v].value)}`);
        },
      });
      return counters;
    },

    /** A value read when scraped. */
    gauge(name: string, help: string, read: () => number) {
      add({ name, help, type: 'gauge', render: (out) => out.push(`${name} ${num(read())}`) });
    },

    /** `buckets`: upper bounds, ascending; `+Inf` is added. */
    histogram(name: string, help: string, buckets: readonly number[]): Histogram {
      const bounds = Float64Array.from(buckets);
      const counts = new Float64Array(bounds.length + 1); // per bucket, not cumulative; the last is +Inf
      let sum = 0;
      let count = 0;
      add({
        name, help, type: 'histogram',
        render: (out) => {
          let cumulative = 0;
          for (let i = 0; i < bounds.length; i++) {
            cumulative += counts[i]!;
            out.push(`${name}_bucket{le="${num(bounds[i]!)}"} ${cumulative}`);
          }
          out.push(`${name}_bucket{le="+Inf"} ${count}`, `${name}_sum ${num(sum)}`, `${name}_count ${count}`);
        },
      });
      return {
        observe(value: number) {
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i++;
          counts[i]!++;
          sum += value;
          count++;
        },
        get count() {
          return count;
        },
      };
    },

    /** Every family in the text format, in registration order. */
    render(): string {
      const out: string[] = [];
      for (const f of families) {
        out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
        f.render(out);
      }
      return out.join('\n') + '\n';
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
