#!/usr/bin/env node
// `npm start`: Node-RED with our nodes and flows, two embedded lab brokers and a simulated ESP32.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { ENV, LabConfigError, labConfig, type LabConfig } from './lab-config';
import { labSecrets } from './lab-secrets';
import { startAedes } from './aedes-broker';
import { startSimulatedEsp32, type Simulator } from './simulated-esp32';
import { isExposed, nodeRedSettings } from './node-red-settings';

const ROOT = resolve(__dirname, '../..');
const PACKAGE_NAME: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).name;

const MAX_API_BODY = 64 * 1024;

export class PortInUseError extends Error {}

async function main(): Promise<void> {
  const config = labConfig();
  mkdirSync(config.userDir, { recursive: true });
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
    const insecure = await listenOn('insecure lab broker', config.insecurePort, ENV.insecurePort, () =>
      startAedes({ host: config.bind, port: config.insecurePort }),
    );
    stops.push(() => insecure.stop());
    const secure = await listenOn('secure lab broker', config.securePort, ENV.securePort, () =>
      startAedes({
        host: config.bind,
        port: config.securePort,
        tls: { cert: readFileSync(secrets.certs.cert), key: readFileSync(secrets.certs.key) },
        authenticate: (user, pass) => (secrets.users as Record<string, string>)[user] === pass,
      }),
    );
    stops.push(() => secure.stop());
    const sim: Simulator = startSimulatedEsp32({
      insecure: { host: '127.0.0.1', port: insecure.port },
      secure: { host: '127.0.0.1', port: secure.port, ca: readFileSync(secrets.certs.ca), username: 'esp32', password: secrets.users.esp32 },
    });
    stops.push(() => sim.stop());
    const apiKey = ensureApiKey();
    const red = await startNodeRed(config);
    stops.push(red.stop);
    banner(config, secrets.users.student, secrets.fresh, sim.deviceId, apiKey);
  } catch (err) {
    if (err instanceof PortInUseError || err instanceof LabConfigError) console.error(`\n${err.message}\n`);
    else console.error(err);
    await shutdown(1);
  }
}

async function listenOn<T>(what: string, port: number, envVar: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new PortInUseError(`Port ${port} (${what}) is already in use. Stop what uses it, or choose another port: ${envVar}=<port> npm start`);
    if (code === 'EACCES') throw new PortInUseError(`Not allowed to listen on port ${port} (${what}). Choose another port: ${envVar}=<port> npm start`);
    throw err;
  }
}

async function startNodeRed(config: LabConfig): Promise<{ stop: () => Promise<void> }> {
  linkOurPackage(config.userDir);
  installFlows(config);
  // The shipped flows read these through ${...} in node properties.
  process.env.MQTTSEC_LAB_PORTS = `${config.insecurePort},${config.securePort}`;
  process.env.MQTTSEC_REPORTS_DIR ||= join(config.userDir, 'reports');
  const RED = require('node-red');
  const express = require('express');
  const app = express();
  // Node-RED reads a raw request body whole before any flow (and the API key check) runs: refuse
  // big API bodies at the door.
  const server = createServer((req, res) => {
    const length = Number(req.headers['content-length'] ?? NaN);
    if (req.method === 'POST' && req.url?.startsWith('/api/') && !(length <= MAX_API_BODY)) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: 'payload_too_large', message: `request body must have a Content-Length of at most ${MAX_API_BODY} bytes` }));
      req.destroy();
      return;
    }
    app(req, res);
  });
  RED.init(server, nodeRedSettings(config, credentialSecret(config.userDir)));
  app.use('/', RED.httpAdmin);
  app.use('/', RED.httpNode);
  await listenOn('Node-RED editor and dashboard', config.uiPort, ENV.uiPort, () =>
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

function banner(config: LabConfig, studentPassword: string, fresh: boolean, deviceId: string, api: { key: string; generated: boolean }): void {
  const host = config.bind.includes(':') ? `[${config.bind}]` : config.bind;
  const lines = [
    '',
    'MQTT security lab is running',
    '',
    `  Dashboard:        http://${host}:${config.uiPort}/ui`,
    `  Flow editor:      http://${host}:${config.uiPort}/`,
    `  Insecure broker:  mqtt://${host}:${config.insecurePort}   (anonymous, plain text)`,
    `  Secure broker:    mqtts://${host}:${config.securePort}  (TLS, user "student")`,
    fresh
      ? `  Student password: ${studentPassword}   (shown once; kept in ${secretsFile(config)})`
      : `  Student password: in ${secretsFile(config)}`,
    `  Simulated ESP32:  ${deviceId}, publishing every 3 s`,
    `  HTTP API:         http://${host}:${config.uiPort}/api/scan  (header X-API-KEY)`,
    api.generated
      ? `  API key:          ${api.key}   (generated for this run; set MQTTSEC_API_KEY to choose your own)`
      : '  API key:          from MQTTSEC_API_KEY',
    '',
    '  Press Ctrl-C to stop.',
    '',
  ];
  console.log(lines.join('\n'));
  if (isExposed(config.bind)) {
    console.warn(`WARNING: ${ENV.bind}=${config.bind} exposes the editor and dashboard beyond this machine without a password.\n         Set adminAuth and httpNodeAuth in a settings file first (see the README).\n`);
  }
}

if (require.main === module) void main();
