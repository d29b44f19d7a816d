// What the sites tests (test/sites/, test/nodes/site-nodes.test.ts) compare between a coordinated
// scan and a local one: each result's verdict (how it was reached, the auth grid, risk, finding ids);
// and `mqtt-scan agent` processes, for those tests and the bench's sites case.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ScanResult } from '../../lib/types';

/** The verdict of one result, as test/sites/sites.test.ts compares it. */
export function siteVerdict(r: ScanResult) {
  const a = r.auth;
  return {
    reachability: r.reachability, classification: r.classification, transport: r.transport,
    anonymous: a.anonymous.outcome, wrongCredentials: a.wrongCredentials.outcome,
    givenCredentials: `${a.givenCredentials.outcome}${a.givenCredentials.withheld ? ` (withheld: ${a.givenCredentials.withheld})` : ''}`,
    risk: r.risk?.level ?? null, findings: (r.findings ?? []).map((f) => f.id).sort(),
  };
}

/** host:port of each result, sorted. */
export function keysOf(results: ScanResult[]): string[] {
  return results.map((r) => `${r.host}:${r.port}`).sort();
}

/** An `mqtt-scan agent` process and the JSON event lines it printed (each with `at`: when it arrived, ms since the epoch). */
export interface CliAgent {
  login: string;
  child: ChildProcess;
  pid: number;
  events: Array<Record<string, unknown>>;
  /** The last events and stderr, for an error message. */
  output(): string;
}

/**
 * Starts `node <cli> agent <args>` with `env` added to this process's environment and waits (at
 * most `readyMs`) for its `ready` event line. Throws naming the login when it exits or is not ready
 * in time. The process is killed when this one exits, whatever happens.
 */
export async function startCliAgent(cli: string, login: string, args: string[], env: Record<string, string>, readyMs = 20_000): Promise<CliAgent> {
  const child = spawn(process.execPath, [cli, 'agent', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  let stderr = '';
  const events: Array<Record<string, unknown>> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const l of lines) if (l.trim().startsWith('{')) events.push({ ...(JSON.parse(l) as Record<string, unknown>), at: Date.now() });
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-20_000)));
  const agent: CliAgent = { login, child, pid: child.pid!, events, output: () => `${JSON.stringify(events.slice(-20))}\n${stderr}` };
  // Last resort (a crash, mocha's --exit): no agent outlives this process.
  const guard = () => child.kill('SIGKILL');
  process.once('exit', guard);
  child.once('exit', () => process.off('exit', guard));
  const deadline = Date.now() + readyMs;
  while (!events.some((e) => e.type === 'ready')) {
    if (child.exitCode !== null) throw new Error(`agent ${login} exited (${child.exitCode}): ${agent.output()}`);
    if (Date.now() > deadline) throw new Error(`agent ${login} not ready after ${readyMs} ms: ${agent.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return agent;
}

/** Stops an agent with `signal` (SIGKILL after 5 s) and waits for it to exit. */
export async function stopCliAgent(agent: CliAgent, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => agent.child.once('exit', () => r()));
  process.kill(agent.pid, signal);
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
