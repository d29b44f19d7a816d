// The lab launcher (`npm start`, dist/lab/start.js) as a child process on free loopback ports with
// its own user directory, for tests that drive the shipped flows from outside (browser, HTTP API).
// Only this child is ever stopped, by its pid; its user directory is removed unless kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from './ports';

export const LAB_START = resolve(__dirname, '../../dist/lab/start.js');

export interface LabPorts {
  ui: number;
  insecure: number;
  secure: number;
  /** The insecure broker over ws (LAB_WS_PORT) and the secure one over wss (LAB_WSS_PORT). */
  ws: number;
  wss: number;
}

export interface LabProcess {
  child: ChildProcess;
  ports: LabPorts;
  userDir: string;
  output(): string;
  /** http://127.0.0.1:<ui port><path> */
  url(path: string): string;
}

export interface StartOptions {
  /** Extra environment. MQTTSEC_API_KEY is empty unless given here: the launcher then makes one up
   *  and prints it (apiKeyFromBanner). */
  env?: Record<string, string>;
  /** Reuse a user directory (a restart); default: a new temporary one. */
  userDir?: string;
  ports?: LabPorts;
  timeoutMs?: number;
  /** A command the launcher runs under, e.g. ['unshare', '-n', ...]: spawned as
   *  prefix[0] with [...prefix.slice(1), node, start.js]. */
  prefix?: string[];
  /** What in the output means "started" (default: the banner and Node-RED's "Started flows"). */
  waitFor?: RegExp;
  /** Arguments of the launcher, e.g. ['--sites'] (npm run lab:sites). */
  args?: string[];
}

export async function startLab(opts: StartOptions = {}): Promise<LabProcess> {
  if (!existsSync(LAB_START)) throw new Error(`${LAB_START} is missing: run npm run build first`);
  const userDir = opts.userDir ?? mkdtempSync(join(tmpdir(), 'mqttsec-lab-'));
  const [ui, insecure, secure, ws, wss] = opts.ports ? [] : await freePorts(5);
  const ports = opts.ports ?? { ui, insecure, secure, ws, wss };
  const argv = [...(opts.prefix ?? []), process.execPath, LAB_START, ...(opts.args ?? [])];
  const child = spawn(argv[0], argv.slice(1), {
    env: {
      ...process.env,
      MQTTSEC_API_KEY: '',
      MQTTSEC_USERDIR: userDir,
      MQTTSEC_UI_PORT: String(ports.ui),
      LAB_INSECURE_PORT: String(ports.insecure),
      LAB_SECURE_PORT: String(ports.secure),
      LAB_WS_PORT: String(ports.ws),
      LAB_WSS_PORT: String(ports.wss),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const lab: LabProcess = { child, ports, userDir, output: () => out, url: (p) => `http://127.0.0.1:${ports.ui}${p}` };
  try {
    await new Promise<void>((res, rej) => {
      const limit = opts.timeoutMs ?? 30_000;
      const timer = setTimeout(() => rej(new Error(`lab did not start in ${limit / 1000} s:\n${out}`)), limit);
      const check = () => {
        // The banner comes once Node-RED runs; the flows start right after it.
        if (opts.waitFor ? opts.waitFor.test(out) : /Press Ctrl-C to stop/.test(out) && /Started flows/.test(out)) {
          clearTimeout(timer);
          res();
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`lab exited (${code}) while starting:\n${out}`));
      });
    });
  } catch (err) {
    await stopLab(lab, { keepUserDir: !!opts.userDir });
    throw err;
  }
  // The dashboard flow restores itself from an inject that fires 0.5 s after the flows start.
  await new Promise((r) => setTimeout(r, 1000));
  return lab;
}

/** Ctrl-C (SIGINT) as a user would; SIGKILL after 15 s. Resolves with the exit code. */
export function stopLab(lab: LabProcess, opts: { keepUserDir?: boolean } = {}): Promise<number | null> {
  const cleanup = () => {
    if (!opts.keepUserDir) rmSync(lab.userDir, { recursive: true, force: true });
  };
  return new Promise((res) => {
    if (lab.child.exitCode !== null || lab.child.signalCode !== null) {
      cleanup();
      return res(lab.child.exitCode);
    }
    const timer = setTimeout(() => lab.child.kill('SIGKILL'), 15_000);
    lab.child.once('exit', (code) => {
      clearTimeout(timer);
      cleanup();
      res(code);
    });
    lab.child.kill('SIGINT');
  });
}

/** The API key the launcher generated and printed, or null when it used MQTTSEC_API_KEY. */
export function apiKeyFromBanner(output: string): string | null {
  const m = /API key: +(\S+) +\(generated/.exec(output);
  return m ? m[1] : null;
}

/** The lab's generated passwords (student, esp32) from <userDir>/lab-secrets/users.json. */
export function labUsers(userDir: string): { student: string; esp32: string } {
  return JSON.parse(readFileSync(join(userDir, 'lab-secrets', 'users.json'), 'utf8'));
}
