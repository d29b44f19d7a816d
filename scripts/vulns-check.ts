// npm run vulns:check [-- --product mosquitto --page <local copy of a vendor page or changelog> ...]
// Prints how old the known-vulnerability table (lib/risk/known-vulnerabilities.ts) is and what it
// holds, and for each page given, the CVE ids it names that the table lacks. Exit code 1 when a
// page names a missing CVE or the table is older than --max-age-days (default 90). Reads only the
// files it is given; no network.
import { readFileSync } from 'node:fs';
import { KNOWN_VULNERABILITIES, NEWEST_RELEASES, VULNERABILITY_TABLE_AS_OF, type BrokerProduct } from '../lib/risk/known-vulnerabilities';
import { cvesMissingFrom, tableAgeDays } from '../lib/risk/vulnerabilities';

function main(argv: string[]): number {
  const pages: string[] = [];
  let product: BrokerProduct | undefined;
  let maxAge = 90;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = argv[i + 1];
    if ((a === '--page' || a === '--product' || a === '--max-age-days') && value === undefined) throw new Error(`${a} needs a value`);
    if (a === '--page') pages.push(argv[++i]);
    else if (a === '--product') {
      product = argv[++i] as BrokerProduct;
      if (!KNOWN_VULNERABILITIES.some((v) => v.product === product) && !NEWEST_RELEASES.some((x) => x.product === product)) throw new Error(`--product: unknown product "${product}"`);
    } else if (a === '--max-age-days') {
      maxAge = Number(argv[++i]);
      if (!Number.isInteger(maxAge) || maxAge < 0) throw new Error(`--max-age-days: a whole number of days, got "${value}"`);
    } else throw new Error(`unknown option "${a}" (use --page FILE, --product NAME, --max-age-days N)`);
  }
  const age = tableAgeDays();
  console.log(`known-vulnerability table as of ${VULNERABILITY_TABLE_AS_OF} (${age} day(s) old)`);
  const products = [...new Set(KNOWN_VULNERABILITIES.map((v) => v.product))];
  for (const p of products) {
    const newest = NEWEST_RELEASES.find((x) => x.product === p);
    console.log(`  ${p}: ${KNOWN_VULNERABILITIES.filter((v) => v.product === p).length} entries${newest ? `, newest release known ${newest.version} (${newest.released})` : ''}`);
  }
  let failed = age > maxAge;
  if (failed) console.log(`the table is older than ${maxAge} days: read the vendors' security pages and changelogs again`);
  for (const page of pages) {
    const missing = cvesMissingFrom(readFileSync(page, 'utf8'), product);
    console.log(missing.length ? `${page}: ${missing.length} CVE(s) not in the table${product ? ` for ${product}` : ''}: ${missing.join(', ')}` : `${page}: every CVE it names is in the table`);
    if (missing.length) failed = true;
  }
  return failed ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`vulns:check: ${(err as Error).message}`);
  process.exitCode = 2;
}
