// The drivers (bench/drivers/*.ts) run as plain JavaScript: transpiled here once per bench run
// into bench/results/.drivers/ (git-ignored), so the measured processes carry neither ts-node nor
// the TypeScript compiler (which would add ~100 MB of RSS and skew memory and GC figures).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'bench', 'results', '.drivers');

export type DriverName = 'flow' | 'scan' | 'heap' | 'report';
/** Modules the drivers import (./common), transpiled next to them. */
const HELPERS = ['common'];

let built: Record<DriverName, string> | null = null;

export function driverPaths(): Record<DriverName, string> {
  if (built) return built;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  mkdirSync(OUT, { recursive: true });
  const paths = {} as Record<DriverName, string>;
  for (const name of ['flow', 'scan', 'heap', 'report', ...HELPERS]) {
    const src = readFileSync(join(ROOT, 'bench', 'drivers', `${name}.ts`), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: `${name}.ts`,
    }).outputText;
    const path = join(OUT, `${name}.js`);
    writeFileSync(path, js);
    if (!HELPERS.includes(name)) paths[name as DriverName] = path;
  }
  built = paths;
  return paths;
}

/** Environment for a driver: BENCH_ROOT tells it where dist/ is. */
export function driverEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, BENCH_ROOT: ROOT, ...extra };
}
