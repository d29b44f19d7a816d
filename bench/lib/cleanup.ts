// Everything the bench starts is registered here and undone on every way out: normal end,
// error, Ctrl-C (SIGINT), SIGTERM, SIGHUP. Child processes are spawned detached (their own
// process group, whose id is the child's pid), so the group is killed by that id and nothing
// else; namespaces and routes are removed by the exact names this run created.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

type SyncCleanup = { name: string; run: () => void };

const children = new Map<number, { child: ChildProcess; label: string }>();
const cleanups: SyncCleanup[] = [];
let installed = false;
let cleaning = false;

/** Tracks a detached child; it is untracked when it exits. */
export function trackChild(child: ChildProcess, label: string): void {
  if (child.pid === undefined) return;
  const pid = child.pid;
  children.set(pid, { child, label });
  child.once('exit', () => children.delete(pid));
}

/** Registers a synchronous undo step (run last-in first-out). Returns a function that runs it now, once. */
export function onCleanup(name: string, run: () => void): () => void {
  const entry: SyncCleanup = { name, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) {
      cleanups.splice(i, 1);
      entry.run();
    }
  };
}

/** True while the process exists and is not a zombie (a zombie has exited; only its parent's wait is missing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Stops a child we started and waits for its exit event (so it is reaped): SIGTERM, SIGKILL after graceMs. */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), ms).unref())]);
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  signal('SIGTERM');
  if (!(await within(graceMs))) {
    signal('SIGKILL');
    await within(graceMs);
  }
}

/** Signals a child's process group (it was started detached), or the child alone; gone is fine. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Kills the process group of a child we started: SIGTERM, then SIGKILL after graceMs. */
export function killGroupSync(pid: number, graceMs = 1000): void {
  const signal = (sig: NodeJS.Signals) => signalGroup(pid, sig);
  if (!alive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) sleepSync(20);
  if (alive(pid)) signal('SIGKILL');
}

/** Kills every tracked child and runs every cleanup step. Synchronous, idempotent. */
export function cleanupAll(): void {
  if (cleaning) return;
  cleaning = true;
  try {
    for (const [pid, { label }] of [...children]) {
      try {
        killGroupSync(pid);
      } catch (err) {
        console.error(`bench: could not stop ${label} (pid ${pid}): ${(err as Error).message}`);
      }
      children.delete(pid);
    }
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      try {
        step.run();
      } catch (err) {
        console.error(`bench: cleanup "${step.name}" failed: ${(err as Error).message}`);
      }
    }
  } finally {
    cleaning = false;
  }
}

export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const sig of Object.keys(codes) as NodeJS.Signals[]) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, cleaning up (children, brokers, namespace)...`);
      cleanupAll();
      process.exit(codes[sig]);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('bench: uncaught exception:', err);
    cleanupAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('bench: unhandled rejection:', err);
    cleanupAll();
    process.exit(1);
  });
  process.on('exit', () => cleanupAll());
}
