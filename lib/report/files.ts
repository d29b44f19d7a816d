// Report files: named after the scan and its time, written atomically (temp file in the same
// directory, fsync, rename). A failure removes every temp file and every file of this batch
// already renamed, so a reports directory never holds a half report.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReportFile {
  name: string;
  data: Buffer | string;
}

/** "mqtt-scan-<scan id>-20261127T100005Z": only [A-Za-z0-9._-], so any scan id is a safe name. */
export function reportBaseName(scanId: string | null | undefined, at: Date): string {
  const id = (scanId ?? 'scan').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[_-]+/, '').slice(0, 64) || 'scan';
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `mqtt-scan-${id}-${time}`;
}

/**
 * Writes every file or none; returns the final paths in the order given. Reports name brokers,
 * topics and findings: the files are readable by their owner only (0600), and a directory this
 * creates is 0700 (an existing one keeps its mode: it is the user's).
 */
export async function writeFilesAtomically(dir: string, files: ReportFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temps: string[] = [];
  const done: string[] = [];
  try {
    for (const f of files) {
      if (f.name !== f.name.replace(/[/\\]/g, '') || f.name.startsWith('.')) throw new Error(`bad report file name "${f.name}"`);
      const temp = join(dir, `.${f.name}.${randomBytes(6).toString('hex')}.tmp`);
      temps.push(temp);
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(f.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    for (let i = 0; i < files.length; i++) {
      const target = join(dir, files[i].name);
      await rename(temps[i], target);
      done.push(target);
    }
    return done;
  } catch (err) {
    await Promise.all([...temps, ...done].map((p) => unlink(p).catch(() => undefined)));
    throw err;
  }
}
