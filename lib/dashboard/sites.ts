// The Sites panel of the lab dashboard (issue 20): the scan agents of each site (online or offline,
// from their retained status and last will, as the site coordinator node reports them), the shards
// of the current coordinated scan (granted, done, published again), its progress per site and the
// coordinator's warnings; and the button that starts a two-site scan, whose merged results go
// through the same risk classifier, report writer, scan history and results table as a local scan.
//
// The lab's sites are reached through the global context (LAB_SITES_KEY): `npm run lab:sites` hands
// the flows what it runs (addresses, names, never a password). Without it (`npm start`, another
// Node-RED) the panel says how to start the sites lab, and nothing else happens.
import { record } from './read';
import { RUNNING_LOCK_MS, startScan } from './form';
import { markScanRunning } from './scans-running';
import type { View, ViewContext, ViewMessage, ViewOutputs } from './types';
import type { SiteProgress } from '../sites';

/** The key of Node-RED's global context under which `npm run lab:sites` describes its sites to the flows (settings.functionGlobalContext). */
export const LAB_SITES_KEY = 'mqttsecLabSites';

/** One site of the lab, as the launcher runs it. */
export interface LabSite {
  /** The site's name (lib/sites checkSiteName), e.g. "north". */
  name: string;
  /** Its agent's scope: the addresses it may scan (target specs). */
  scope: string;
  /** The logins of its agents on the coordinator's broker. */
  agents: string[];
  /** What there is to find at the site, e.g. "mqtt://127.0.0.2:1884 (anonymous)". */
  brokers: string[];
}

/** What `npm run lab:sites` runs (no password: this reaches every flow). */
export interface LabSitesState {
  /** The coordinator's broker, mqtts://host:port. */
  broker: string;
  sites: LabSite[];
  /** A two-site scan: its targets (IP specs, comma-separated) and ports (a port list). */
  targets: string;
  ports: string;
  /** The name of the scanned brokers' login the agents hold (a job names it, never carries it). */
  credentialsName: string;
}

/** What the launcher puts under LAB_SITES_KEY: a function, so that a flow cannot change the launcher's copy. */
export interface LabSites {
  state(): LabSitesState;
}

/** What the panel says outside `npm run lab:sites`. */
export const LAB_SITES_OFF =
  'The sites lab is off. Start it with `npm run lab:sites` (it needs Mosquitto): a coordinator here, a Mosquitto that carries the jobs, ' +
  'and two scan agents, north (this lab\'s brokers) and south (one more small broker on another loopback address). Then this panel shows the agents, and its button scans both sites in one scan.';

/** Seconds the agents listen to each readable broker in a scan from the panel (the form's default is 10). */
export const SITES_LISTEN_S = 5;

/** Bounds of what the flow keeps and the panel shows. */
const MAX_AGENTS = 32;
const MAX_SHARDS = 256;
const MAX_WARNINGS = 5;
const MAX_TEXT = 300;

/** An agent as the panel keeps it (flow key `sites`). */
interface KeptAgent {
  site: string;
  login: string;
  online: boolean;
  /** When the coordinator last heard of it, ms since the epoch. */
  seenAt: number;
}

interface KeptShard {
  site: string;
  state: string;
  attempts: number;
  holder: string | null;
  size: number;
}

/** Flow key `sites`: what the coordinator said last (agents by "site/login", the current or last coordinated scan, the last warnings). */
export interface SitesKept {
  agents: Record<string, KeptAgent>;
  connected: boolean | null;
  scan: {
    scanId: string;
    state: 'running' | 'done' | 'cancelled' | 'not_done' | 'interrupted';
    shards: Record<string, KeptShard>;
    planned: Record<string, number>;
    progress: Record<string, SiteProgress>;
    outside: number;
    results: number | null;
    noAgent: string[];
  } | null;
  warnings: Array<{ at: number; text: string }>;
}

/** One agent row of the panel. */
export interface PanelAgent {
  site: string;
  login: string;
  online: boolean;
  /** "online" / "offline" and since when (HH:MM:SS, the runtime's time). */
  state: string;
}

/** One site row of the panel: its agents, and its part of the current scan (SiteProgress, with the per cent swept, 0-100). */
export interface PanelSite extends SiteProgress {
  name: string;
  scope: string;
  brokers: string;
  online: number;
  agents: number;
  percent: number;
}

/** The Sites panel (msg.payload of its ui_template). */
export interface SitesPanel {
  /** False outside `npm run lab:sites`: then only `unavailable` is shown. */
  available: boolean;
  unavailable: string | null;
  broker: string;
  /** The coordinator's connection to its broker: true, false, or null before it said. */
  connected: boolean | null;
  agents: PanelAgent[];
  sites: PanelSite[];
  /** What the button scans. */
  targets: string;
  ports: string;
  /** The current or last coordinated scan, null before the first. */
  scan: { scanId: string; state: string; granted: number; done: number; requeued: number; notDone: number; outside: number; results: number | null; noAgent: string } | null;
  /** The coordinator's last warnings, newest first. */
  warnings: string[];
  /** What the last button press did, or why it was refused; null on a plain redraw. */
  notice: { kind: 'done' | 'error'; text: string } | null;
}

/** `v` when it has LabSites' method (what a flow put in the global context may be anything). */
export function isLabSites(v: unknown): v is LabSites {
  return typeof record(v).state === 'function';
}

/** The lab's sites, or undefined outside `npm run lab:sites` (or when its state() fails). */
export function labSitesState(ctx: ViewContext): LabSitesState | undefined {
  const lab = ctx.global.get(LAB_SITES_KEY);
  if (!isLabSites(lab)) return undefined;
  try {
    const s = record(lab.state());
    if (typeof s.broker !== 'string' || !Array.isArray(s.sites) || typeof s.targets !== 'string' || typeof s.ports !== 'string') return undefined;
    return s as unknown as LabSitesState;
  } catch {
    return undefined;
  }
}

const text = (v: unknown, max = MAX_TEXT): string => {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

function kept(ctx: ViewContext): SitesKept {
  const k = record(ctx.flow.get('sites'));
  return {
    agents: record(k.agents) as Record<string, KeptAgent>,
    connected: typeof k.connected === 'boolean' ? k.connected : null,
    scan: (k.scan && typeof k.scan === 'object' ? k.scan : null) as SitesKept['scan'],
    warnings: Array.isArray(k.warnings) ? (k.warnings as SitesKept['warnings']).slice(0, MAX_WARNINGS) : [],
  };
}

/**
 * Folds one event of the site coordinator node's second output into `k` (msg.payload.type: agent,
 * connection, plan, shard, progress, no-agent, end, warning; others are ignored). Returns whether
 * the panel changed. Every value is read as untrusted: texts cut, counts checked, lists bounded.
 */
export function foldSitesEvent(k: SitesKept, payload: unknown, now: number): boolean {
  const e = record(payload);
  switch (e.type) {
    case 'agent': {
      const a = record(e.agent);
      if (typeof a.site !== 'string' || typeof a.login !== 'string') return false;
      const key = `${text(a.site, 40)}/${text(a.login, 64)}`;
      if (!Object.hasOwn(k.agents, key) && Object.keys(k.agents).length >= MAX_AGENTS) return false;
      k.agents[key] = { site: text(a.site, 40), login: text(a.login, 64), online: a.state === 'online', seenAt: count(a.seenAt) || now };
      // A status reaches the coordinator only over its connection to the broker (it reports a loss and a return, not the first connect).
      if (k.connected === null) k.connected = true;
      return true;
    }
    case 'connection':
      k.connected = e.connected === true;
      return true;
    case 'plan': {
      if (typeof e.scanId !== 'string') return false;
      const planned: Record<string, number> = {};
      for (const [site, n] of Object.entries(record(e.shards)).slice(0, MAX_AGENTS)) planned[text(site, 40)] = count(n);
      k.scan = { scanId: text(e.scanId, 64), state: 'running', shards: {}, planned, progress: {}, outside: count(e.outsideSpecs), results: null, noAgent: [] };
      return true;
    }
    case 'shard': {
      const s = record(e.shard);
      if (!k.scan || e.scanId !== k.scan.scanId || typeof s.shard !== 'number') return false;
      const key = String(s.shard);
      if (!Object.hasOwn(k.scan.shards, key) && Object.keys(k.scan.shards).length >= MAX_SHARDS) return false;
      k.scan.shards[key] = { site: text(s.site, 40), state: text(s.state, 20), attempts: count(s.attempts), holder: typeof s.holder === 'string' ? text(s.holder, 64) : null, size: count(s.size) };
      return true;
    }
    case 'progress': {
      if (!k.scan || e.scanId !== k.scan.scanId) return false;
      const progress: Record<string, SiteProgress> = {};
      for (const [site, p] of Object.entries(record(e.sites)).slice(0, MAX_AGENTS)) {
        const r = record(p);
        progress[text(site, 40)] = { shards: count(r.shards), done: count(r.done), held: count(r.held), notDone: count(r.notDone), swept: count(r.swept), total: count(r.total) };
      }
      k.scan.progress = progress;
      return true;
    }
    case 'no-agent':
      if (!k.scan || e.scanId !== k.scan.scanId) return false;
      k.scan.noAgent = (Array.isArray(e.sites) ? e.sites : []).slice(0, MAX_AGENTS).map((s) => text(s, 40));
      return true;
    case 'end':
      if (!k.scan || e.scanId !== k.scan.scanId) return false;
      k.scan.state = e.cancelled === true ? 'cancelled' : count(e.notDoneCount) ? 'not_done' : 'done';
      k.scan.results = count(e.results);
      return true;
    case 'warning':
      k.warnings = [{ at: now, text: text(e.error) }, ...k.warnings].slice(0, MAX_WARNINGS);
      return true;
    default:
      return false;
  }
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** The panel from what the coordinator said (`k`) and what the lab runs (`lab`; undefined: the sites lab is off). */
export function sitesPanel(k: SitesKept, lab: LabSitesState | undefined, notice: SitesPanel['notice'] = null): SitesPanel {
  if (!lab) {
    return { available: false, unavailable: LAB_SITES_OFF, broker: '', connected: null, agents: [], sites: [], targets: '', ports: '', scan: null, warnings: [], notice };
  }
  const agents: PanelAgent[] = Object.values(k.agents)
    .sort((a, b) => a.site.localeCompare(b.site) || a.login.localeCompare(b.login))
    .map((a) => ({ site: a.site, login: a.login, online: a.online, state: `${a.online ? 'online' : 'offline'} (${clock(a.seenAt)})` }));
  const scan = k.scan;
  const sites: PanelSite[] = lab.sites.slice(0, MAX_AGENTS).map((s) => {
    const p = scan?.progress[s.name];
    const mine = agents.filter((a) => a.site === s.name);
    const total = p?.total ?? 0;
    return {
      name: text(s.name, 40), scope: text(s.scope, 200), brokers: text((s.brokers ?? []).join(' · '), 300),
      online: mine.filter((a) => a.online).length, agents: mine.length,
      shards: p?.shards ?? scan?.planned[s.name] ?? 0, done: p?.done ?? 0, held: p?.held ?? 0, notDone: p?.notDone ?? 0,
      swept: p?.swept ?? 0, total, percent: total ? Math.min(100, Math.round((100 * (p?.swept ?? 0)) / total)) : 0,
    };
  });
  const shards = scan ? Object.values(scan.shards) : [];
  return {
    available: true, unavailable: null, broker: text(lab.broker, 200), connected: k.connected, agents, sites,
    targets: text(lab.targets, 200), ports: text(lab.ports, 200),
    scan: scan
      ? {
          scanId: scan.scanId, state: scan.state,
          granted: shards.filter((s) => s.holder).length,
          done: shards.filter((s) => s.state === 'done').length,
          requeued: shards.filter((s) => s.attempts > 1).length,
          notDone: shards.filter((s) => s.state === 'not_done').length,
          outside: scan.outside, results: scan.results, noAgent: scan.noAgent.join(', '),
        }
      : null,
    warnings: k.warnings.map((w) => `${clock(w.at)} ${w.text}`),
    notice,
  };
}

/**
 * The Sites panel's two views. Two, because node-red-dashboard hands a ui_template's output
 * whatever the browser sends (any msg.topic and msg.payload): a tab that could reach the view of
 * the coordinator's events could forge them (an agent offline, a scan done, a warning) for every
 * tab. So the panel's output goes to `sites-scan`, which takes the button only, and `sites` takes
 * only the flow's own messages.
 *
 * `sites`. In: topic 'show' (on start: the panel; outside the sites lab it forgets what an
 * earlier sites lab left, in it it keeps only the lab's own agents and no warnings) or the site coordinator's events (its output 2: msg.payload.type).
 * Output: the panel. Wire nothing from the browser to it.
 *
 * `sites-scan`. In: the panel's button (msg.payload {action: 'scan'}); anything else is ignored.
 * Outputs: 1 the panel, 2 the coordinated scan for the site coordinator (as the scan form's: topic
 * scan/<id>, payload {targets, ports}, sniff, plus credentialsName and sites), 3 'start' or the
 * refusal for the progress panel, 4 'show' for "collect the results". A scan is refused while
 * another runs (the form's lock).
 */
export const SITES_VIEWS = {
  sites: {
    outputs: 1,
    input(msg: ViewMessage, ctx: ViewContext): ViewOutputs | null {
      const lab = labSitesState(ctx);
      const k = kept(ctx);
      const p = record(msg.payload);
      if (msg.topic === 'show') {
        if (!lab) {
          ctx.flow.set('sites', undefined);
        } else {
          // 'show' comes once, when the flows start: a coordinated scan of before is over (the dashboard marks it interrupted).
          if (k.scan?.state === 'running') k.scan.state = 'interrupted';
          // The flow context outlives a restart: only the lab's own agents stay (the coordinator's
          // broker sends their retained status again), and the warnings were about the run before.
          const known = new Set(lab.sites.flatMap((site) => (Array.isArray(site.agents) ? site.agents : []).map((login) => `${site.name}/${login}`)));
          for (const key of Object.keys(k.agents)) if (!known.has(key)) delete k.agents[key];
          k.warnings = [];
          ctx.flow.set('sites', k);
        }
        return [{ payload: sitesPanel(k, lab) }];
      }
      if (typeof p.type !== 'string') return null;
      if (!foldSitesEvent(k, p, ctx.now())) return null;
      ctx.flow.set('sites', k);
      return [{ payload: sitesPanel(k, lab) }];
    },
  },
  'sites-scan': {
    outputs: 4,
    input(msg: ViewMessage, ctx: ViewContext): ViewOutputs | null {
      if (record(msg.payload).action !== 'scan') return null;
      return startSitesScan(ctx, labSitesState(ctx), kept(ctx));
    },
  },
} satisfies Record<string, View>;

function startSitesScan(ctx: ViewContext, lab: LabSitesState | undefined, k: SitesKept): ViewOutputs {
  const refuse = (message: string): ViewOutputs => [{ payload: sitesPanel(k, lab, { kind: 'error', text: message }) }, null, { topic: 'error', payload: { message, form: true } }, null];
  if (!lab) return refuse(LAB_SITES_OFF);
  const now = ctx.now();
  const running = record(ctx.flow.get('running'));
  if (typeof running.at === 'number' && now - running.at < RUNNING_LOCK_MS) return refuse('A scan is running: wait for it or cancel it first.');
  const online = new Set(Object.values(k.agents).filter((a) => a.online).map((a) => a.site));
  const missing = lab.sites.filter((s) => !online.has(s.name)).map((s) => s.name);
  const started = startScan(
    { target: lab.targets, ports: lab.ports, username: '', password: '', listen: SITES_LISTEN_S, writeTest: false, sendCredentialsPlaintext: false, tryDefaults: false, ca: '' },
    ctx.newId(), now,
  );
  // The agents scan with the lab login they hold (its name travels, never the login).
  started.current.withLogin = true;
  (started.started.payload as Record<string, unknown>).withLogin = true;
  const scan: ViewMessage = { ...started.scan, credentialsName: lab.credentialsName, sites: lab.sites.map((s) => s.name), scanSource: 'dashboard' };
  ctx.flow.set('running', started.running);
  markScanRunning(ctx, started.running.scanId, now);
  ctx.flow.set('current', started.current);
  k.scan = { scanId: started.running.scanId, state: 'running', shards: {}, planned: {}, progress: {}, outside: 0, results: null, noAgent: [] };
  ctx.flow.set('sites', k);
  const note = missing.length
    ? `Scan ${started.running.scanId} started; no agent of ${missing.join(', ')} is online yet (the coordinator waits 10 s for one).`
    : `Scan ${started.running.scanId} started on ${lab.sites.map((s) => s.name).join(' and ')}.`;
  return [{ payload: sitesPanel(k, lab, { kind: 'done', text: note }) }, scan, started.started, { topic: 'show' }];
}
