// Runs one measured process: wall time from spawn to exit (hrtime in this process), peak RSS
// from GNU time (-f %M, the child's ru_maxrss) or, without it, by polling /proc/<pid>/status
// VmHWM; every run is bounded in time and killed (its whole process group) at the deadline.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroupSync, onCleanup, trackChild } from './cleanup';

export const GNU_TIME = '/usr/bin/time';
const MAX_CAPTURE = 64 * 1024 * 1024;

export interface RunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  label: string;
}

export interface RunResult {
  wallMs: number;
  /** Peak resident set size in MB, null when it could not be measured. */
  peakRssMb: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

let gnuTime: boolean | null = null;
export function hasGnuTime(): boolean {
  if (gnuTime === null) {
    gnuTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;
  }
  return gnuTime;
}

export function runMeasured(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-bench-run-'));
  const removeDir = onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const timeFile = join(dir, 'time');
  const useTime = hasGnuTime();
  const [bin, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(bin, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // own process group: the deadline kills it and everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child, opts.label);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      if (stdout.length < MAX_CAPTURE) stdout += c.toString('utf8');
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < MAX_CAPTURE) stderr += c.toString('utf8');
    });
    let timedOut = false;
    let polledKb = 0;
    // Without GNU time: poll VmHWM of the measured process (the child itself then).
    const poll = useTime
      ? null
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) polledKb = Math.max(polledKb, Number(m[1]));
          } catch {
            // exited
          }
        }, 20);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroupSync(child.pid, 500);
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      removeDir();
      reject(err);
    });
    child.once('close', (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakKb: number | null = polledKb || null;
      if (useTime) {
        try {
          // GNU time writes "Command exited with non-zero status N" first when the child failed.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const n = Number(lines[lines.length - 1]);
          peakKb = Number.isFinite(n) && n > 0 ? n : null;
        } catch {
          peakKb = null;
        }
      }
      removeDir();
      resolve({ wallMs, peakRssMb: peakKb === null ? null : peakKb / 1024, code, signal, timedOut, stdout, stderr });
    });
  });
}

/** A short description of a failed run, for the table's notes. */
export function failure(r: RunResult): string | null {
  if (r.timedOut) return `killed at the time limit after ${(r.wallMs / 1000).toFixed(1)} s`;
  if (r.code !== 0) return `exit ${r.code ?? r.signal}: ${lastLines(r.stderr, 3)}`;
  return null;
}

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 400);
}
