// The house rules of docs/ARCHITECTURE.md, checked on the source: lib/ has at most four files at
// its top level; every folder of lib/ is a layer that imports only layers below it, and another
// folder only through that folder's index.ts; no import cycle among lib/'s files; lib/ never
// imports Node-RED, the nodes, the CLI or the lab.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const LIB = join(ROOT, 'lib');

/**
 * Layers, lowest first. A file may import its own folder and any folder of a lower rank; folders
 * of the same rank do not import each other. Keep in step with docs/ARCHITECTURE.md.
 */
export const LAYERS: Record<string, number> = {
  'types.ts': 0,
  common: 1,
  options: 1,
  targets: 2,
  mqtt: 2,
  sweep: 3,
  credentials: 3,
  probe: 4,
  tls: 4,
  sniff: 5,
  risk: 6,
  pipeline: 7,
  report: 7,
  sites: 8,
  history: 9,
  dashboard: 10,
  'index.ts': 11,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a file: import/export ... from, import('...'), require('...'). */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[2]);
  return out;
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const c of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(c)) return c;
  return null;
}

/** 'probe' for lib/probe/x.ts, 'types.ts' for lib/types.ts. */
function layerOf(file: string): string {
  return relative(LIB, file).split(/[\\/]/)[0];
}

describe('architecture: the layout of lib/', () => {
  const files = tsFiles(LIB);

  it('has at most four files at its top level, every other file in a known layer folder', () => {
    const top = readdirSync(LIB).filter((n) => statSync(join(LIB, n)).isFile());
    assert.ok(top.length <= 4, `lib/ top level: ${top.join(', ')}`);
    for (const f of files) assert.ok(layerOf(f) in LAYERS, `${relative(ROOT, f)}: lib/${layerOf(f)} is not a layer of docs/ARCHITECTURE.md`);
  });

  it('imports only lower layers, and another folder only through its index.ts', () => {
    const problems: string[] = [];
    for (const f of files) {
      const mine = layerOf(f);
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.')) {
          if (/^(node-red|@node-red)/.test(spec)) problems.push(`${relative(ROOT, f)} imports ${spec}`);
          continue;
        }
        const target = resolveImport(f, spec);
        if (!target) {
          problems.push(`${relative(ROOT, f)}: cannot resolve ${spec}`);
          continue;
        }
        if (!target.startsWith(LIB + '/')) {
          problems.push(`${relative(ROOT, f)} imports ${relative(ROOT, target)}, outside lib/`);
          continue;
        }
        const theirs = layerOf(target);
        if (theirs === mine) continue;
        if (LAYERS[theirs] >= LAYERS[mine]) problems.push(`${relative(ROOT, f)} (${mine}, layer ${LAYERS[mine]}) imports ${relative(ROOT, target)} (${theirs}, layer ${LAYERS[theirs]})`);
        if (!theirs.endsWith('.ts') && relative(LIB, target) !== `${theirs}/index.ts`) {
          problems.push(`${relative(ROOT, f)} reaches into ${relative(ROOT, target)}: import lib/${theirs} through its index.ts`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('has no import cycle among its files', () => {
    const graph = new Map<string, string[]>();
    for (const f of files) graph.set(f, importsOf(f).map((s) => resolveImport(f, s)).filter((t): t is string => !!t && t.startsWith(LIB)));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => posix.normalize(relative(LIB, x))).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  it('is imported by nodes/ and cli/ only through lib/index.ts or a layer index.ts', () => {
    const problems: string[] = [];
    for (const dir of ['nodes', 'cli']) {
      for (const f of tsFiles(join(ROOT, dir))) {
        for (const spec of importsOf(f)) {
          const target = resolveImport(f, spec);
          if (!target || !target.startsWith(LIB + '/')) continue;
          const rel = relative(LIB, target);
          if (rel !== 'index.ts' && rel !== 'types.ts' && !/^[^/]+\/index\.ts$/.test(rel)) problems.push(`${relative(ROOT, f)} reaches into lib/${rel}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
