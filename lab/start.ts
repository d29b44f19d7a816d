#!/usr/bin/env node
// `npm start`: Node-RED with our nodes and flows, two embedded lab brokers and a simulated ESP32.
// `npm run lab:sites` (--sites): the same, plus two sites and one scan over both (lab/lab-sites.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ENV, LabConfigError, labConfig, portKeyOf, type LabConfig, type PortKey } from './lab-config';
import { labSecrets } from './lab-secrets';
import { startAedes } from './aedes-broker';
import { startSimulatedEsp32, type Simulator } from './simulated-esp32';
import { createLabControls, type LabControlsHandle } from './lab-controls';
import { LAB_CONTROLS_KEY, LAB_SITES_KEY, type LabControls, type LabSites, type LabSitesState } from '../lib/dashboard';
import {
  LAB_SITES_CREDENTIALS_NAME, NO_MOSQUITTO, SOUTH_READINGS, claimSitesRun, findMosquitto, labAgents, labSitesConfig, labSitesSecrets, sitesSetting,
  startLabAgent, startSitesBroker, switchOffSitesNodes, switchOnSitesNodes, upgradeSitesPanel, writeSitesBrokerFiles, type LabSitesConfig,
} from './lab-sites';
import { nodeRedSettings } from './node-red-settings';
import { BODY_CAP_BYTES, DEPLOY_BODY_CAP_BYTES, guardPolicy } from './request-guard';
import { GuardedServer } from './guarded-server';
import { CLASS_USER, TEACHER_USER, classPasswordChecker, exposureDecision, labWebAuth, type WebAuth } from './web-auth';

const ROOT = resolve(__dirname, '../..');
const PACKAGE_NAME: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).name;

export class PortInUseError extends Error {}

async function main(): Promise<void> {
  // Everything the lab writes (flows, context files with results, topic samples and the scan
  // history, reports, secrets) is for its owner only: Node-RED's context store and our writers
  // create files with the default mode, which this umask turns into 0600 (folders 0700).
  process.umask(0o077);
  const args = process.argv.slice(2);
  const unknownArg = args.find((a) => a !== '--sites');
  if (unknownArg !== undefined) {
    console.error(`npm start: unknown option ${JSON.stringify(unknownArg.slice(0, 40))} (the launcher takes --sites only: npm run lab:sites)`);
    process.exit(2);
  }
  const withSites = args.includes('--sites');
  let config: LabConfig;
  let sitesConfig: LabSitesConfig | null = null;
  let mosquitto: string | null = null;
  try {
    config = labConfig();
    if (withSites) sitesConfig = labSitesConfig(config);
  } catch (err) {
    // A bad setting is one line that names it, not a stack trace.
    if (!(err instanceof LabConfigError)) throw err;
    console.error(`${withSites ? 'npm run lab:sites' : 'npm start'}: ${err.message}`);
    process.exit(2);
  }
  if (withSites) {
    // Said before anything starts: there is no embedded stand-in for an MQTT 5 broker.
    mosquitto = findMosquitto();
    if (!mosquitto) {
      console.error(`\n${NO_MOSQUITTO}\n`);
      process.exit(1);
    }
  }
  mkdirSync(config.userDir, { recursive: true });
  // Decided before anything listens: beyond loopback only with the editor and dashboard passwords.
  let exposure: ReturnType<typeof exposureDecision>;
  try {
    exposure = exposureDecision(config.bind, () => labWebAuth(config.userDir));
  } catch (err) {
    console.error(`\n${(err as Error).message}\n`);
    process.exit(1);
  }
  const webAuth = exposure.exposed ? exposure.auth : null;
  const secrets = labSecrets(config.userDir);
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the lab...');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // The terminal closed: without a handler Node exits at once, and the children it started
  // (Mosquitto, which takes SIGHUP for "reload", and the agents) would outlive the lab.
  process.on('SIGHUP', () => void shutdown(0));

  try {
    // Each broker also speaks MQTT over WebSockets (path /mqtt, as MQTT.js and browsers use).
    const insecure = await listenOn('insecure lab broker', config, 'insecurePort', () =>
      startAedes({ host: config.bind, port: config.insecurePort, websocket: { port: config.websocketPort, path: '/mqtt' } }),
    );
    stops.push(() => insecure.stop());
    const secure = await listenOn('secure lab broker', config, 'securePort', () =>
      startAedes({
        host: config.bind,
        port: config.securePort,
        tls: { cert: readFileSync(secrets.certs.cert), key: readFileSync(secrets.certs.key) },
        authenticate: (user, pass) => (secrets.users as Record<string, string>)[user] === pass,
        websocket: { port: config.secureWebsocketPort, path: '/mqtt' },
      }),
    );
    stops.push(() => secure.stop());
    const host = config.bind.includes(':') ? `[${config.bind}]` : config.bind;
    // Lab controls: the dashboard's panel changes these two brokers while they run. It restores
    // the settings the class left (lab-controls.json) before the ESP32 connects.
    let sim: Simulator | undefined;
    const controls = createLabControls({
      insecure,
      secure,
      addresses: {
        insecure: [`mqtt://${host}:${insecure.port}`, `ws://${host}:${insecure.websocketPort}/mqtt`],
        secure: [`mqtts://${host}:${secure.port}`, `wss://${host}:${secure.websocketPort}/mqtt`],
      },
      users: secrets.users,
      certs: secrets.certs,
      esp32InsecureLogin: (login) => sim?.setInsecureLogin(login),
      file: join(config.userDir, 'lab-controls.json'),
    });
    if (controls.fileProblem) console.warn(`Lab controls: ${controls.fileProblem}`);
    const simulator = startSimulatedEsp32({
      insecure: { host: '127.0.0.1', port: insecure.port, login: controls.esp32InsecureLogin() },
      secure: { host: '127.0.0.1', port: secure.port, ca: readFileSync(secrets.certs.ca), username: 'esp32', password: secrets.users.esp32 },
    });
    sim = simulator;
    stops.push(() => simulator.stop());
    let sites: RunningSites | null = null;
    if (sitesConfig && mosquitto) {
      sites = await startSites(config, sitesConfig, mosquitto, secrets.certs.ca, secrets.users.student, stops);
    }
    const apiKey = ensureApiKey();
    // The flows' TLS configuration trusts the lab CA through ${MQTTSEC_LAB_CA}.
    process.env.MQTTSEC_LAB_CA = secrets.certs.ca;
    const red = await startNodeRed(config, webAuth, controls, sites);
    stops.push(red.stop);
    banner(config, secrets.users.student, secrets.fresh, simulator.deviceId, apiKey, webAuth, controls.summary(), sites);
    if (secrets.certsRenewed) {
      console.warn(`NOTE: the lab's certificates were made anew for Lab controls (a new lab CA, the passwords are kept):\n      a device that pins the lab CA needs ${secrets.certs.ca} again.\n`);
    }
  } catch (err) {
    if (err instanceof PortInUseError || err instanceof LabConfigError) console.error(`\n${err.message}\n`);
    else console.error(err);
    await shutdown(1);
  }
}

/** Runs `start`; a port in use or not allowed becomes a PortInUseError naming the port (the one in
 *  the error: a broker listens on two) and the variable that moves it. */
async function listenOn<T>(what: string, config: LabConfig, main: PortKey, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const key = portKeyOf(config, (err as { port?: unknown }).port) ?? main;
    const [port, envVar] = [config[key], ENV[key]];
    if (code === 'EADDRINUSE') throw new PortInUseError(`Port ${port} (${what}) is already in use. Stop what uses it, or choose another port: ${envVar}=<port> npm start`);
    if (code === 'EACCES') throw new PortInUseError(`Not allowed to listen on port ${port} (${what}). Choose another port: ${envVar}=<port> npm start`);
    throw err;
  }
}

/** What `--sites` started (lab/lab-sites.ts), for Node-RED and the banner. */
interface RunningSites {
  state: LabSitesState;
  /** The coordinator's login on its broker: for Node-RED's credentials store only. */
  login: { username: string; password: string };
  /** Where each part runs, for the banner. */
  lines: string[];
}

/**
 * The sites of `npm run lab:sites`: the coordinator's broker (Mosquitto), the south site's small
 * broker (aedes, with retained readings) and one agent per site, each pushed onto `stops`.
 * Throws (the launcher stops what it started) when one of them cannot start.
 */
async function startSites(config: LabConfig, sc: LabSitesConfig, mosquitto: string, labCa: string, studentPassword: string, stops: Array<() => Promise<void>>): Promise<RunningSites> {
  // First: no other launcher on this user directory, and nothing an earlier one left running.
  const run = await claimSitesRun(config.userDir);
  stops.push(async () => run.release()); // stops run in reverse: the record goes after the children
  if (run.stoppedStale.length) console.warn(`Sites: stopped what an earlier npm run lab:sites on this user directory left running: ${run.stoppedStale.join(', ')}.`);
  const secrets = labSitesSecrets(config.userDir);
  const files = writeSitesBrokerFiles(config.userDir, secrets, sc);
  const broker = await startSitesBroker(mosquitto, files, sc.port, (pid) => run.add(pid, 'mosquitto'));
  stops.push(broker.stop);
  const south = await startAedes({ host: sc.southAddress, port: sc.southPort }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      throw new PortInUseError(`Port ${sc.southPort} on ${sc.southAddress} (the south site's broker): ${err.code}. Choose another: LAB_SOUTH_PORT=<port> npm run lab:sites`);
    }
    throw err;
  });
  stops.push(() => south.stop());
  await retainReadings(sc.southAddress, south.port);
  const agents = labAgents(sc);
  for (const a of agents) {
    const agent = await startLabAgent(a, { port: sc.port, sitesCa: secrets.certs.ca, labCa, password: secrets.logins[a.login], studentPassword, onSpawn: (pid) => run.add(pid, `agent ${a.login}`) });
    stops.push(agent.stop);
  }
  const labPorts = [config.insecurePort, config.securePort, config.websocketPort, config.secureWebsocketPort];
  const northBrokers = [`mqtt://${sc.northAddress}:${config.insecurePort}`, `mqtts://${sc.northAddress}:${config.securePort}`, `ws://${sc.northAddress}:${config.websocketPort}/mqtt`, `wss://${sc.northAddress}:${config.secureWebsocketPort}/mqtt`];
  const state: LabSitesState = {
    broker: `mqtts://127.0.0.1:${sc.port}`,
    sites: [
      { name: 'north', scope: sc.northAddress, agents: ['north-1'], brokers: northBrokers },
      { name: 'south', scope: sc.southAddress, agents: ['south-1'], brokers: [`mqtt://${sc.southAddress}:${south.port} (anonymous)`] },
    ],
    targets: `${sc.northAddress},${sc.southAddress}`,
    ports: [...labPorts, south.port].join(','),
    credentialsName: LAB_SITES_CREDENTIALS_NAME,
  };
  // The flows' site broker and coordinator nodes read these through ${...}.
  process.env.MQTTSEC_SITES_URL = state.broker;
  process.env.MQTTSEC_SITES_CA = secrets.certs.ca;
  process.env.MQTTSEC_LAB_SITES = sitesSetting(sc);
  const lines = [
    `  Sites broker:     ${state.broker}  (Mosquitto, pid ${broker.pid}; TLS, a login each, brokers/sites/acl; files in ${files.dir})`,
    `  Site north:       agent north-1 (mqtt-scan agent), scope ${sc.northAddress}: the lab brokers above`,
    `  Site south:       agent south-1 (mqtt-scan agent), scope ${sc.southAddress}: mqtt://${sc.southAddress}:${south.port} (anonymous, plain text)`,
    `  Coordinator:      in Node-RED (the dashboard's "Sites" panel and POST /api/scan {"sites": true}); logins in ${join(config.userDir, 'lab-secrets', 'sites', 'logins.json')}`,
  ];
  return { state, login: { username: 'coordinator', password: secrets.logins.coordinator }, lines };
}

/** Leaves the south site's readings on its broker, retained, so a scan of the site has topics to find. */
async function retainReadings(host: string, port: number): Promise<void> {
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync({ host, port, protocolVersion: 4, clientId: 'south-greenhouse', reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    for (const r of SOUTH_READINGS) await client.publishAsync(r.topic, r.payload, { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}

async function startNodeRed(config: LabConfig, webAuth: WebAuth | null, controls: LabControlsHandle, sites: RunningSites | null): Promise<{ stop: () => Promise<void> }> {
  linkOurPackage(config.userDir);
  installFlows(config);
  // The lab's coordinators start switched off (the plain lab has no coordinator's broker); in
  // sites mode one deploy below gives them their login and switches them on.
  const sitesNodes = switchOffSitesNodes(join(config.userDir, 'flows.json'));
  if (upgradeSitesPanel(join(config.userDir, 'flows.json'))) {
    console.warn('Sites: the Sites panel\'s button now has a view of its own (lab-sites-scan): a dashboard tab could forge the coordinator\'s events in the flows of before. Your flows were rewired.');
  }
  if (!sites) {
    // Read by the switched-off sites nodes' ${...}: empty, so their TLS node reads no file.
    for (const v of ['MQTTSEC_SITES_URL', 'MQTTSEC_SITES_CA', 'MQTTSEC_LAB_SITES']) process.env[v] = '';
  }
  // The shipped flows read these through ${...} in node properties.
  process.env.MQTTSEC_LAB_PORTS = `${config.insecurePort},${config.securePort},${config.websocketPort},${config.secureWebsocketPort}`;
  process.env.MQTTSEC_REPORTS_DIR ||= join(config.userDir, 'reports');
  const RED = require('node-red');
  const express = require('express');
  const app = express();
  // No stack traces in answers (express's default error page prints them outside production).
  app.set('env', 'production');
  app.disable('x-powered-by');
  // Every request and websocket upgrade passes the guard first (lab/request-guard.ts): its Host and
  // Origin must be the lab's own, its URL well formed, its body within the cap, and when the lab
  // is exposed the dashboard and the HTTP API need the class password.
  const policy = guardPolicy(config.bind, config.uiPort, {
    interfaceAddresses: Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
    hostNames: [hostname()],
    classAuth: webAuth ? classPasswordChecker(webAuth.classHash) : undefined,
  });
  const server = new GuardedServer(policy, (req, res) => app(req, res));
  // The flows get the two methods of LabControls only: nothing that could hand a flow a password.
  const labControls: LabControls = Object.freeze({ state: () => controls.state(), apply: (change: Parameters<LabControls['apply']>[0]) => controls.apply(change) });
  // The sites: what runs where, never a password (a fresh copy at each call).
  const labSites: LabSites | null = sites ? Object.freeze({ state: () => JSON.parse(JSON.stringify(sites.state)) as LabSitesState }) : null;
  RED.init(server, nodeRedSettings(config, credentialSecret(config.userDir), webAuth?.teacherHash, { [LAB_CONTROLS_KEY]: labControls, ...(labSites ? { [LAB_SITES_KEY]: labSites } : {}) }));
  app.use('/', RED.httpAdmin);
  app.use('/', RED.httpNode);
  app.use(jsonErrors);
  await listenOn('Node-RED editor and dashboard', config, 'uiPort', () =>
    new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(config.uiPort, config.bind, () => res());
    }),
  );
  await RED.start();
  if (sites) {
    const on = sitesNodes ? await switchOnSitesNodes(RED.runtime.flows, sites.login) : 0;
    if (!on) console.warn('Sites: the flows in use have no lab coordinator (flows from before the Sites panel?). `npm run lab:reset` installs the shipped flows at the next start.');
  }
  return {
    stop: async () => {
      await RED.stop();
      // An open dashboard tab keeps a websocket: close it too, or Ctrl-C waits for the browser.
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
    },
  };
}

/** The last error handler: a short JSON answer, never a stack trace or a path. */
function jsonErrors(err: { status?: number; statusCode?: number; message?: string }, _req: IncomingMessage, res: ServerResponse, _next: unknown): void {
  const status = Number(err?.status ?? err?.statusCode) || 500;
  const client = status >= 400 && status < 500;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(client ? status : 500, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(client ? { error: 'bad_request', message: 'The request could not be read (malformed URL or body).' } : { error: 'internal_error', message: 'The lab could not answer this request.' }));
}

/** Node-RED finds node packages in <userDir>/node_modules: point one entry at this checkout. */
function linkOurPackage(userDir: string): void {
  const link = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  rmSync(link, { recursive: true, force: true });
  symlinkSync(ROOT, link, 'dir');
  const pkg = join(userDir, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, `${JSON.stringify({ name: 'mqttsec-lab-userdir', private: true }, null, 2)}\n`);
}

/** The shipped flows on first start; afterwards the user's own edits are kept (npm run lab:reset starts over). */
function installFlows(config: LabConfig): void {
  const target = join(config.userDir, 'flows.json');
  if (existsSync(target)) return;
  const dir = join(ROOT, 'flows');
  const flows = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        // The dashboard's tab first: the editor opens on it.
        .sort((a, b) => Number(b === 'lab-dashboard.json') - Number(a === 'lab-dashboard.json') || a.localeCompare(b))
        .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    : [];
  writeFileSync(target, `${JSON.stringify(flows, null, 2)}\n`);
}

function credentialSecret(userDir: string): string {
  const file = join(userDir, '.credential-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function secretsFile(config: LabConfig): string {
  return join(config.userDir, 'lab-secrets', 'users.json');
}

/** The HTTP API's key: the user's own from MQTTSEC_API_KEY, or a random one for this run only. */
function ensureApiKey(): { key: string; generated: boolean } {
  if (process.env.MQTTSEC_API_KEY) return { key: process.env.MQTTSEC_API_KEY, generated: false };
  const key = randomBytes(24).toString('base64url');
  process.env.MQTTSEC_API_KEY = key;
  return { key, generated: true };
}

function banner(config: LabConfig, studentPassword: string, fresh: boolean, deviceId: string, api: { key: string; generated: boolean }, webAuth: WebAuth | null, labControls: string, sites: RunningSites | null): void {
  const host = config.bind.includes(':') ? `[${config.bind}]` : config.bind;
  const lines = [
    '',
    'MQTT security lab is running',
    '',
    `  Dashboard:        http://${host}:${config.uiPort}/ui`,
    `  Flow editor:      http://${host}:${config.uiPort}/`,
    `  Insecure broker:  mqtt://${host}:${config.insecurePort}   (anonymous, plain text)`,
    `                    ws://${host}:${config.websocketPort}/mqtt   (the same, over WebSockets)`,
    `  Secure broker:    mqtts://${host}:${config.securePort}  (TLS, user "student")`,
    `                    wss://${host}:${config.secureWebsocketPort}/mqtt  (the same, over WebSockets)`,
    fresh
      ? `  Student password: ${studentPassword}   (shown once; kept in ${secretsFile(config)})`
      : `  Student password: in ${secretsFile(config)}`,
    `  Simulated ESP32:  ${deviceId}, publishing every 3 s`,
    `  Lab controls:     ${labControls}   (the dashboard's "Lab controls" panel changes the brokers)`,
    `  HTTP API:         http://${host}:${config.uiPort}/api/scan  (header X-API-KEY)`,
    api.generated
      ? `  API key:          ${api.key}   (generated for this run; set MQTTSEC_API_KEY to choose your own)`
      : '  API key:          from MQTTSEC_API_KEY',
    ...(sites ? ['', ...sites.lines] : []),
    ...(webAuth
      ? [
          webAuth.fresh
            ? `  Editor login:     ${TEACHER_USER} / ${webAuth.fresh.teacher}   (shown once; only its hash is kept in ${webAuth.file})`
            : `  Editor login:     ${TEACHER_USER} / (as shown at the first exposed start; delete ${webAuth.file} for new passwords)`,
          webAuth.fresh
            ? `  Dashboard login:  ${CLASS_USER} / ${webAuth.fresh.class}   (shown once; dashboard and HTTP API; give it to the class)`
            : `  Dashboard login:  ${CLASS_USER} / (as shown at the first exposed start)`,
        ]
      : []),
    '',
    `  Refused: pages of other sites, Host names that are not this lab's, bodies over ${BODY_CAP_BYTES / 1024} KB (deploys: ${DEPLOY_BODY_CAP_BYTES / 1024 / 1024} MB).`,
    '  Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
  if (webAuth) {
    console.warn(`NOTE: ${ENV.bind}=${config.bind}: the editor, dashboard and API are reachable from other machines, behind the logins above\n      and the API key. Anyone with the teacher login can run code on this machine.\n`);
  }
}

if (require.main === module) void main();
