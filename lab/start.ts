#!/usr/bin/env node
// `npm start`: Node-RED with our nodes and flows, two embedded lab brokers and a simulated ESP32.
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
import { LAB_CONTROLS_KEY, type LabControls } from '../lib/dashboard';
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
  let config: LabConfig;
  try {
    config = labConfig();
  } catch (err) {
    // A bad setting is one line that names it, not a stack trace.
    if (!(err instanceof LabConfigError)) throw err;
    console.error(`npm start: ${err.message}`);
    process.exit(2);
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
    const apiKey = ensureApiKey();
    // The flows' TLS configuration trusts the lab CA through ${MQTTSEC_LAB_CA}.
    process.env.MQTTSEC_LAB_CA = secrets.certs.ca;
    const red = await startNodeRed(config, webAuth, controls);
    stops.push(red.stop);
    banner(config, secrets.users.student, secrets.fresh, simulator.deviceId, apiKey, webAuth, controls.summary());
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

async function startNodeRed(config: LabConfig, webAuth: WebAuth | null, controls: LabControlsHandle): Promise<{ stop: () => Promise<void> }> {
  linkOurPackage(config.userDir);
  installFlows(config);
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
  RED.init(server, nodeRedSettings(config, credentialSecret(config.userDir), webAuth?.teacherHash, { [LAB_CONTROLS_KEY]: labControls }));
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

function banner(config: LabConfig, studentPassword: string, fresh: boolean, deviceId: string, api: { key: string; generated: boolean }, webAuth: WebAuth | null, labControls: string): void {
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
