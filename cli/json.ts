// mqtt-scan --json: the results as one JSON array on stdout, written a few at a time.
import type { ScanResult } from '../lib/types';

/** Results written to stdout at a time, as one piece of text: enough to keep the pipe busy. */
const JSON_CHUNK = 32;

/**
 * `JSON.stringify(results, null, 2)` and a newline, written a few results at a time and waiting
 * for stdout to drain: the same bytes, without the whole text (29 MB for 1,000 brokers) and its
 * copy in the pipe's buffer held at once.
 */
export async function writeJsonArray(results: readonly ScanResult[]): Promise<void> {
  if (!results.length) {
    process.stdout.write('[]\n');
    return;
  }
  for (let i = 0; i < results.length; i += JSON_CHUNK) {
    // A slice as an array is the whole array's text for those elements between "[\n" and "\n]".
    const part = JSON.stringify(results.slice(i, i + JSON_CHUNK), null, 2).slice(2, -2);
    const text = `${i === 0 ? '[\n' : ',\n'}${part}${i + JSON_CHUNK >= results.length ? '\n]\n' : ''}`;
    if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
  }
}

