/**
 * The source tree's layers (docs/DESIGN.md, "Layers"): a file imports only from its own folder or from a layer
 * below its own, and no chain of imports comes back to where it started. Type-only imports count: a type that
 * has to be fetched from above is in the wrong place.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(import.meta.dir, '..');

/** Lowest first. A path belongs to the longest prefix that matches it. */
export const LAYERS: readonly string[] = [
  'runtime/',
  'lib/',
  'views/',
  'store/',
  'fanout/shm/',
  'workers/',
  'fanout/',
  'middleware/',
  'routes/',
  'app.ts',
  'server.ts',
];

const layerOf = (file: string): string | undefined =>
  LAYERS.filter((prefix) => file === prefix || file.startsWith(prefix)).sort((a, b) => b.length - a.length)[0];

function sources(dir = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = dir ? `${dir}/${name}` : name;
    if (statSync(join(ROOT, path)).isDirectory()) {
      if (!dir && !LAYERS.some((l) => l.startsWith(`${name}/`))) continue; // tests, bench, scripts, node_modules, dist
      out.push(...sources(path));
    } else if (/\.tsx?$/.test(name) && (dir || LAYERS.includes(name))) out.push(path);
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!)).replaceAll('\\', '/'));
}

/** Every import that goes up a layer, or sideways into another folder of the same layer, as `from -> to`. */
export function upwardImports(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const from = LAYERS.indexOf(layerOf(file)!);
    for (const target of targets) {
      const layer = layerOf(target);
      if (layer === undefined) {
        bad.push(`${file} -> ${target} (outside the layers)`);
        continue;
      }
      const to = LAYERS.indexOf(layer);
      if (to > from || (to === from && dirname(file) !== dirname(target))) bad.push(`${file} -> ${target}`);
    }
  }
  return bad;
}

/** One import cycle, as the chain of files, or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

describe('layers', () => {
  const graph = new Map(sources().map((file) => [file, importsOf(file)] as const));

  test('the tree is read: every layer has files, and every import resolves to one', () => {
    for (const layer of LAYERS) expect([...graph.keys()].some((f) => layerOf(f) === layer)).toBe(true);
    for (const targets of graph.values()) for (const t of targets) expect(statSync(join(ROOT, t)).isFile()).toBe(true);
  });

  test('no import goes up a layer or across into a sibling folder', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  test('no import cycle', () => {
    expect(findCycle(graph)).toBeNull();
  });

  test("docs/DESIGN.md's Parts table names every source file", () => {
    const design = readFileSync(join(ROOT, 'docs/DESIGN.md'), 'utf8');
    const parts = design.slice(design.indexOf('## Parts'), design.indexOf('## Bounds'));
    expect([...graph.keys()].filter((file) => !parts.includes(`\`${file}\``))).toEqual([]);
  });

  test('the checks see a violation (an upward import and a cycle made up here)', () => {
    const broken = new Map(graph);
    broken.set('store/memory.ts', [...(graph.get('store/memory.ts') ?? []), 'fanout/hub.ts']);
    expect(upwardImports(broken)).toContain('store/memory.ts -> fanout/hub.ts');
    broken.set('lib/logger.ts', ['lib/errors.ts']);
    broken.set('lib/errors.ts', ['lib/logger.ts']);
    expect(findCycle(broken)).not.toBeNull();
  });
});
