// Site agent: a scan agent of the sites protocol (lib/sites ScanAgent) in a Node-RED flow. It
// starts when the flow is deployed and stops when it is closed (redeploy, shutdown); it takes the
// jobs of its site, refuses (with the reason sent back) what is outside its scope or names a
// login it does not hold, and runs the same pipeline as a local scan. One message per AgentEvent
// on its output (names and counts, never a secret); its state in the node status.
import type { NodeAPI, NodeDef } from 'node-red';
import { defaultClientId, MAX_AGENT_CONCURRENCY, ScanAgent, type AgentEvent, type ScanAgentOptions } from '../lib/sites';
import { redactPassword } from '../lib/credentials';
import { tlsOptions } from './shared/config';
import { defineNode } from './shared/define';
import { heldLogins, retryAfterFailedStart, SiteSettingError, specList, statusText, wholeNumber } from './shared/site-settings';
import type { CredentialsNode, SiteBrokerNode, TlsConfigNode } from './shared/types';

/** The logins an agent can hold: one editor field each (a config node picker). */
const LOGIN_FIELDS = ['login1', 'login2', 'login3', 'login4'] as const;

interface AgentDef extends NodeDef {
  broker?: string;
  site?: string;
  /** IP specs, separated by commas, spaces or new lines. */
  scope?: string;
  login1?: string;
  login2?: string;
  login3?: string;
  login4?: string;
  concurrency?: string | number;
  /** A core tls-config node: the CA the SCANNED brokers' certificates are judged by. */
  tls?: string;
  sendCredentialsPlaintext?: boolean;
  allowPublic?: boolean;
  /** Run jobs that ask for a write test / default logins (lib/sites JOB_OPTIONS_BEYOND_READING). */
  allowWriteTest?: boolean;
  allowTryDefaults?: boolean;
}

/** The close handler ends within this, ms (Node-RED gives a node 15 s). */
const CLOSE_WAIT_MS = 8000;

/** The ScanAgent options from the editor settings; throws SiteSettingError naming the field. */
function agentOptions(RED: NodeAPI, config: AgentDef): ScanAgentOptions {
  const brokerNode = config.broker ? (RED.nodes.getNode(config.broker) as SiteBrokerNode | null) : null;
  if (!brokerNode) throw new SiteSettingError('broker', config.broker ? 'the site broker node is missing (deleted or disabled?)' : 'choose the site broker');
  const { broker, clientId } = brokerNode.brokerOptions();
  const credentials = heldLogins(LOGIN_FIELDS.map((f) => [f, config[f] ? ((RED.nodes.getNode(config[f]!) as CredentialsNode | null) ?? undefined) : null]));
  const tlsNode = config.tls ? (RED.nodes.getNode(config.tls) as TlsConfigNode | null) : null;
  if (config.tls && !tlsNode) throw new SiteSettingError('tls', 'the TLS configuration node is missing (deleted or disabled?)');
  const tls = tlsOptions(tlsNode);
  return {
    broker,
    // No client id set: the secret default, this node's id in its salt (two agent nodes with one
    // login get a session each).
    clientId: clientId ? `${clientId}-agent` : defaultClientId('agent', broker, config.id),
    site: typeof config.site === 'string' ? config.site.trim() : '',
    scope: specList('scope', config.scope),
    allowPublic: !!config.allowPublic,
    allow: { writeTest: config.allowWriteTest === true, tryDefaults: config.allowTryDefaults === true },
    credentials,
    concurrency: wholeNumber('concurrency', config.concurrency, 1, 1, MAX_AGENT_CONCURRENCY),
    scan: { sendCredentialsPlaintext: !!config.sendCredentialsPlaintext, ...(tls ? { tls } : {}) },
  };
}

/** The engine's own checks (site, login, scope) as errors naming the editor field. */
function newAgent(options: ScanAgentOptions): ScanAgent {
  try {
    return new ScanAgent(options);
  } catch (err) {
    const e = err as Error & { field?: string };
    const field = e.field === 'site' ? 'site' : e.field === 'broker.username' ? 'username' : e.name === 'TargetError' ? 'scope' : e.field ?? 'agent';
    throw new SiteSettingError(field, e.field ? e.message.replace(/^[\w.]+: /, '') : e.message);
  }
}

export = (RED: NodeAPI) =>
  defineNode<AgentDef>(RED, 'mqttsec-site-agent', (node, config, t) => {
    let options: ScanAgentOptions;
    try {
      options = agentOptions(RED, config);
      newAgent(options); // checks site, login and scope now, before anything connects
    } catch (err) {
      // A bad setting stops this node, never Node-RED: said in the status and the log.
      node.status({ fill: 'red', shape: 'ring', text: `${t('status.invalid')}: ${statusText((err as Error).message)}` });
      node.error(`${t('errors.invalid')}: ${(err as Error).message}`);
      return;
    }
    const secrets = [options.broker.password, ...Object.values(options.credentials ?? {}).map((c) => c.password)].filter((p): p is string => !!p);
    const site = String(options.site);
    let agent: ScanAgent | null = null;
    let starting: Promise<void> | null = null;
    let retry: NodeJS.Timeout | null = null;
    let closed = false;
    /** Shards this agent runs now ("scanId/shard"). */
    const running = new Map<string, number>();

    function start(): void {
      if (closed) return;
      const a = newAgent(options);
      a.on('event', (e: AgentEvent) => onEvent(a, e));
      node.status({ fill: 'yellow', shape: 'ring', text: t('status.connecting', { site }) });
      starting = a.start().then(
        () => {
          starting = null;
          agent = a;
          if (closed) void a.stop(); // closed while it connected
          else node.status({ fill: 'green', shape: 'dot', text: t('status.connected', { site, login: a.login }) });
        },
        (err: Error) => {
          starting = null;
          if (closed) return;
          retry = retryAfterFailedStart(node, t, redact(err.message), start);
        },
      );
    }

    function onEvent(a: ScanAgent, e: AgentEvent): void {
      if (closed && e.type !== 'offline') return;
      const event = redact(e);
      node.send({ topic: `agent/${site}/${event.type}`, site, login: a.login, payload: event });
      const key = 'scanId' in event ? `${event.scanId}/${event.shard}` : '';
      switch (event.type) {
        case 'connected':
          // Connected again (mqtt.js reconnects); the first time, start() says so when it is done.
          if (agent === a) node.status({ fill: 'green', shape: 'dot', text: t('status.connected', { site, login: a.login }) });
          break;
        case 'offline':
          node.status({ fill: 'red', shape: 'ring', text: t('status.offline') });
          break;
        case 'running':
          running.set(key, event.shard);
          showRunning();
          break;
        case 'done':
          running.delete(key);
          if (running.size) showRunning();
          else node.status({ fill: 'green', shape: 'dot', text: t('status.done', { shard: event.shard, results: event.results }) });
          break;
        case 'refused':
          running.delete(key);
          node.status({ fill: 'yellow', shape: 'ring', text: t('status.refused', { shard: event.shard, code: event.code }) });
          break;
        case 'cancelled':
          running.delete(key);
          if (running.size) showRunning();
          break;
        case 'denied':
          node.status({ fill: 'grey', shape: 'ring', text: t('status.denied', { shard: event.shard }) });
          break;
        case 'error':
          node.status({ fill: 'red', shape: 'ring', text: `${t('status.error')}: ${statusText(event.error)}` });
          break;
        default:
          break;
      }
    }

    function showRunning(): void {
      const shards = [...running.values()];
      node.status({ fill: 'blue', shape: 'dot', text: shards.length === 1 ? t('status.running', { shard: shards[0] }) : t('status.runningMany', { count: shards.length }) });
    }

    function redact<T>(value: T): T {
      return secrets.reduce((v, s) => redactPassword(v, s), value);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (retry) clearTimeout(retry);
      const timer = setTimeout(finish, CLOSE_WAIT_MS);
      // A start under way ends first (connected, or failed); then the agent stops: its running
      // shards are aborted and left to the coordinator's lease, its status says offline.
      void Promise.resolve(starting)
        .catch(() => undefined)
        .then(() => agent?.stop())
        .catch(() => undefined)
        .then(finish);
      let finished = false;
      function finish() {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        agent = null;
        node.status({});
        done();
      }
    });

    start();
  });


