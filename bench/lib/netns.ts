// A /24 of hosts that silently drop every packet, for the "filtered" case. Root only.
//
// Addresses: 198.18.0.0/15, the range RFC 2544 reserves for benchmarking, so it can never be
// confused with a real network. Order of setup, guard first:
//   1. root ns:  ip route add unreachable 198.18.0.0/15 metric <unique>   (the guard: nothing in
//                the /15 can follow the default route out, even if a later step fails)
//   2. ip netns add mqttsec-bench-<pid>; a veth pair, one end moved into the namespace
//   3. link net  198.19.K.0/30: .1 in the root ns, .2 in the namespace
//   4. namespace: forwarding off + `ip route add blackhole 198.18.K.0/24`, so every SYN to the
//                /24 is discarded without an ICMP or RST (no iptables/nft needed: neither is
//                installed here); the namespace has no listener at all
//   5. root ns:  ip route add 198.18.K.0/24 via 198.19.K.2 (more specific than the guard)
// The scanner runs in the root namespace and needs --allow-public (198.18/15 is not a private
// range). Teardown removes the route, the namespace (which destroys both veth ends) and the guard,
// each by the exact name/metric this run created.
import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';
import { onCleanup } from './cleanup';

export interface FilteredNet {
  ns: string;
  /** The /24 that drops everything, e.g. 198.18.37.0/24. */
  cidr: string;
  /** a.b.c. prefix of the /24 */
  prefix: string;
  teardown(): void;
}

const IP = '/usr/sbin/ip';

function ip(args: string[]): string {
  return execFileSync(existsIp(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function existsIp(): string {
  return process.env.BENCH_IP_BIN || IP;
}

export function canUseNetns(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (ip netns needs root)';
  try {
    ip(['-V']);
  } catch {
    return 'iproute2 (ip) not found';
  }
  return null;
}

export async function createFilteredNet(): Promise<FilteredNet> {
  const pid = process.pid;
  const k = pid % 250; // third octet: runs with different pids use different /24s
  const ns = `mqttsec-bench-${pid}`;
  const vethRoot = `mqb${pid}r`.slice(0, 15);
  const vethNs = `mqb${pid}n`.slice(0, 15);
  const prefix = `198.18.${k}.`;
  const cidr = `${prefix}0/24`;
  const link = `198.19.${k}.`;
  const guardMetric = String(4_000_000 + pid); // unique per run; same-prefix routes coexist by metric
  const steps: Array<() => void> = [];
  const undoAll = () => {
    while (steps.length) {
      try {
        steps.pop()!();
      } catch {
        // already gone (e.g. the route vanished with the veth)
      }
    }
  };
  const teardown = onCleanup(`netns ${ns}`, undoAll);
  try {
    // 1. the guard, before anything can route there
    ip(['route', 'add', 'unreachable', '198.18.0.0/15', 'metric', guardMetric]);
    steps.push(() => ip(['route', 'del', 'unreachable', '198.18.0.0/15', 'metric', guardMetric]));
    // 2. namespace + veth
    ip(['netns', 'add', ns]);
    steps.push(() => ip(['netns', 'del', ns]));
    ip(['link', 'add', vethRoot, 'type', 'veth', 'peer', 'name', vethNs, 'netns', ns]);
    steps.push(() => ip(['link', 'del', vethRoot]));
    // 3. link addresses
    ip(['addr', 'add', `${link}1/30`, 'dev', vethRoot]);
    ip(['link', 'set', vethRoot, 'up']);
    ip(['-n', ns, 'addr', 'add', `${link}2/30`, 'dev', vethNs]);
    ip(['-n', ns, 'link', 'set', vethNs, 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    // 4. inside: no forwarding, and the /24 is a blackhole (silent discard)
    execFileSync(existsIp(), ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0'], { stdio: 'ignore', timeout: 10_000 });
    ip(['-n', ns, 'route', 'add', 'blackhole', cidr]);
    // 5. only this /24 goes through the veth
    ip(['route', 'add', cidr, 'via', `${link}2`, 'dev', vethRoot]);
    steps.push(() => ip(['route', 'del', cidr, 'via', `${link}2`, 'dev', vethRoot]));
    await verify(prefix, vethRoot);
  } catch (err) {
    teardown();
    throw err;
  }
  return { ns, cidr, prefix, teardown };
}

/** Checks the routing and that a SYN to the /24 really goes unanswered. */
async function verify(prefix: string, vethRoot: string): Promise<void> {
  const inside = ip(['route', 'get', `${prefix}7`]);
  if (!inside.includes(`dev ${vethRoot}`)) throw new Error(`route check failed: ${inside.trim()}`);
  // A neighbouring /24 of the benchmarking range must hit the guard, never the default route.
  const k = Number(prefix.split('.')[2]);
  const other = `198.18.${(k + 1) % 256}.7`;
  let guarded = false;
  try {
    guarded = /unreachable/.test(ip(['route', 'get', other]));
  } catch (err) {
    guarded = /unreachable|No route/i.test(String((err as { stderr?: string }).stderr ?? err));
  }
  if (!guarded) throw new Error(`guard check failed: ${other} is routable`);
  const answer = await new Promise<string>((resolve) => {
    const s = new Socket();
    const t = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 600);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? 'error');
    });
    s.connect({ host: `${prefix}7`, port: 1883 });
  });
  if (answer !== 'timeout') throw new Error(`expected a silent drop from ${prefix}7:1883, got ${answer}`);
}

/** Namespaces left by earlier runs that were killed hard (reported, never deleted: not ours). */
export function staleNamespaces(): string[] {
  try {
    return ip(['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => /^mqttsec-bench-\d+$/.test(n) && n !== `mqttsec-bench-${process.pid}`);
  } catch {
    return [];
  }
}
