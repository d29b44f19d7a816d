// Node-RED settings for docker-compose.yml's lab. The entrypoint copies this file to
// /data/settings.js at every start (edit this one, not the copy).
//
// - The editor needs a login: user "teacher", password from MQTTSEC_TEACHER_PASSWORD, or else
//   generated at the first start, printed once in the log (docker compose logs node-red) and kept
//   only as a bcrypt hash in /data/.mqttsec-teacher.hash.
// - Requests must name the lab (Host 127.0.0.1 or localhost on MQTTSEC_PUBLISHED_PORT, default
//   1880) and, from a browser, come from the lab's own pages (Origin): the same checks as the
//   launcher (lab/request-guard.ts), here as Node-RED's and the dashboard's middleware.
//   The launcher's body cap has no place in a settings file: this Node-RED is published on
//   127.0.0.1 only and its editor needs the login.
'use strict';
const { randomBytes } = require('crypto');
const fs = require('fs');
const path = require('path');

const HOME = process.env.MQTTSEC_HOME || '/opt/mqttsec';
const guard = require(path.join(HOME, 'dist', 'lab', 'request-guard.js'));
// bcryptjs comes with Node-RED (its adminAuth uses it).
const bcrypt = require(require.resolve('bcryptjs', { paths: ['/usr/src/node-red', HOME] }));
const HASH_FILE = process.env.MQTTSEC_TEACHER_HASH_FILE || '/data/.mqttsec-teacher.hash';
const PORT = Number(process.env.MQTTSEC_PUBLISHED_PORT || 1880);

/** bcrypt hash of the teacher's password: from the environment, the hash file, or made up now. */
function teacherHash() {
  const given = process.env.MQTTSEC_TEACHER_PASSWORD;
  if (given) {
    if (given.length < 12) throw new Error('MQTTSEC_TEACHER_PASSWORD must have at least 12 characters');
    return bcrypt.hashSync(given, 10);
  }
  if (fs.existsSync(HASH_FILE)) return fs.readFileSync(HASH_FILE, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  const hash = bcrypt.hashSync(password, 10);
  fs.writeFileSync(HASH_FILE, `${hash}\n`, { mode: 0o600 });
  console.log(`\n  Editor login: teacher / ${password}\n  (generated once; only its hash is kept in ${HASH_FILE}: delete it for a new one)\n`);
  return hash;
}

const policy = guard.guardPolicy('127.0.0.1', PORT);

/** express middleware: 403/400 JSON for a request the guard refuses. */
function guardMiddleware(req, res, next) {
  const verdict = guard.checkRequest(req, policy);
  if (verdict.ok) return next();
  res.status(verdict.status).set({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).send(JSON.stringify({ error: verdict.error, message: verdict.message }));
}

/** socket.io middleware for the dashboard's socket: the same checks on the handshake request. */
function guardSocket(socket, next) {
  const verdict = guard.checkRequest(socket.request, policy);
  if (!verdict.ok || socket.handshake.xdomain) return next(new Error('forbidden'));
  next();
}

module.exports = {
  uiPort: 1880,
  flowFile: 'flows.json',
  adminAuth: { type: 'credentials', users: [{ username: 'teacher', password: teacherHash(), permissions: '*' }] },
  httpAdminMiddleware: guardMiddleware,
  httpNodeMiddleware: guardMiddleware,
  ui: { path: 'ui', middleware: guardMiddleware, ioMiddleware: guardSocket },
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
  functionExternalModules: false,
  editorTheme: { projects: { enabled: false }, tours: false, page: { title: 'MQTT security lab' }, header: { title: 'MQTT security lab' } },
  exportGlobalContextKeys: false,
  contextStorage: { default: { module: 'localfilesystem' } },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
