// External tools (mosquitto, openssl, ...) that real-broker tests need. A missing tool
// skips loudly on a developer machine and fails in CI, so CI never goes green by skipping.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// sbin directories are often missing from a non-root PATH, and mosquitto lives there.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const APT_PACKAGE: Record<string, string> = {
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients',
  mosquitto_sub: 'mosquitto-clients',
  openssl: 'openssl',
  pdftotext: 'poppler-utils',
  pdftoppm: 'poppler-utils',
  nmap: 'nmap',
  chromium: 'chromium',
  'rabbitmq-server': 'rabbitmq-server',
};

/** Absolute path of an executable found on PATH (or in the sbin dirs), else null. */
export function findTool(bin: string): string | null {
  if (bin.includes('/')) return isExecutable(bin) ? bin : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, bin);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Call in a `before(function () { ... })` hook. Returns the tool's absolute path. */
export function requireTool(ctx: Mocha.Context, bin: string): string {
  const path = findTool(bin);
  if (path) return path;
  const hint = `apt-get install ${APT_PACKAGE[bin] ?? bin}`;
  if (process.env.CI === 'true') throw new Error(`${bin} is not installed (CI=true, so this is a failure): ${hint}`);
  const line = '!'.repeat(72);
  console.warn(`\n${line}\n  SKIPPED: ${bin} not installed; install it (${hint}) to run these tests\n${line}\n`);
  ctx.skip();
  return bin; // not reached: skip() throws
}
