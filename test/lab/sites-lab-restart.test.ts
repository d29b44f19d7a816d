// `npm run lab:sites` killed (SIGKILL, which it cannot catch) and started again on the same user
// directory, and a second launcher on a user directory whose lab still runs. The launcher's
// children (Mosquitto, two `mqtt-scan agent`) outlive a SIGKILL; before, they kept the sites
// broker's port (the next start failed: "already in use") and the agents' passwords in memory
// until someone found them. Now the launcher records them (pid and start time) in
// <userDir>/lab-sites-run.json and the next start stops the ones still running; a launcher whose
// user directory has a live lab refuses to start and touches nothing. Real Mosquitto, real agents,
// loopback only; only processes this test started (and their children, by the pids they recorded)
// are signalled.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '../support/tools';
import { freePorts } from '../support/ports';
import { startLab, stopLab, type LabProcess } from '../support/lab-process';

const SITES_WAIT = /Press Ctrl-C to stop[\s\S]*Started modified nodes/;

/** Whether `pid` runs (and is no zombie). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of the launcher's children: Mosquitto from the banner, the agents as children of the launcher in /proc. */
function childrenOf(lab: LabProcess): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === lab.child.pid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run lab:sites: killed, started again; two launchers on one user directory', function () {
  this.timeout(300_000);
  let lab: LabProcess | undefined;
  let second: LabProcess | undefined;
  let stale: number[] = [];

  before(function () {
    if (!existsSync('/proc/self/stat')) this.skip(); // the launcher tells its children by /proc (Linux)
    requireTool(this, 'mosquitto');
  });

  after(async () => {
    if (second) await stopLab(second, { keepUserDir: true });
    if (lab) await stopLab(lab);
    for (const pid of stale) if (alive(pid)) process.kill(pid, 'SIGKILL'); // this test's own launcher's children, should a check have failed
  });

  it('a second launcher on the same user directory (other ports) refuses to start, and the first lab\'s Mosquitto and agents keep running', async () => {
    const [sitesPort, southPort, sitesPort2, southPort2] = await freePorts(4);
    lab = await startLab({ args: ['--sites'], waitFor: SITES_WAIT, timeoutMs: 60_000, env: { LAB_SITES_PORT: String(sitesPort), LAB_SOUTH_PORT: String(southPort) } });
    const children = childrenOf(lab);
    assert.equal(children.length, 3, 'Mosquitto and two agents');
    const refused = await startLab({ userDir: lab.userDir, args: ['--sites'], waitFor: SITES_WAIT, timeoutMs: 60_000, env: { LAB_SITES_PORT: String(sitesPort2), LAB_SOUTH_PORT: String(southPort2) } })
      .then((l) => {
        second = l; // it started: stopped in after()
        return null;
      }, (err: Error) => err);
    assert.ok(refused, 'the second launcher did not start');
    assert.match(refused.message, new RegExp(`another npm run lab:sites \\(pid ${lab.child.pid}\\) uses the user directory`));
    for (const pid of children) assert.ok(alive(pid), `the first lab's child ${pid} still runs`);
    assert.ok(existsSync(join(lab.userDir, 'sites-broker', 'mosquitto.log')), 'the first lab\'s broker folder was left alone');
  });

  it('SIGKILL of the launcher: its children outlive it; the next start on the same user directory and ports stops them and runs', async () => {
    const killed = lab!;
    stale = childrenOf(killed);
    assert.equal(stale.length, 3);
    await new Promise<void>((res) => {
      killed.child.once('exit', () => res());
      killed.child.kill('SIGKILL');
    });
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of stale) assert.ok(alive(pid), `child ${pid} outlived the launcher (a SIGKILL cannot be caught)`);
    const env = {
      LAB_SITES_PORT: /Sites broker: +mqtts:\/\/127\.0\.0\.1:(\d+)/.exec(killed.output())![1],
      LAB_SOUTH_PORT: /Site south: .*mqtt:\/\/127\.0\.0\.2:(\d+)/.exec(killed.output())![1],
    };
    lab = await startLab({ userDir: killed.userDir, ports: killed.ports, args: ['--sites'], waitFor: SITES_WAIT, timeoutMs: 60_000, env });
    await until('the stale children are gone', () => stale.every((pid) => !alive(pid)));
    assert.match(lab.output(), /stopped what an earlier npm run lab:sites on this user directory left running/);
    assert.equal(childrenOf(lab).length, 3, 'a Mosquitto and two agents of its own');
  });

  it('SIGHUP (the terminal closed) stops the lab as Ctrl-C does: no Mosquitto or agent left running, no run record left', async () => {
    const running = lab!;
    const children = childrenOf(running);
    assert.equal(children.length, 3);
    stale = children;
    const code = await new Promise<number | null>((res) => {
      running.child.once('exit', (c) => res(c));
      running.child.kill('SIGHUP'); // the launcher only, as a terminal's hangup reaches it (its children get their own)
    });
    lab = undefined;
    assert.equal(code, 0, 'a clean stop');
    await until('its children are gone', () => children.every((pid) => !alive(pid)), 10_000);
    assert.ok(!existsSync(join(running.userDir, 'lab-sites-run.json')), 'the run record is removed');
  });
});
