// Node-RED settings for the lab: loopback by default, its own user directory, no telemetry, no
// palette installs from the internet, our nodes and the dashboard available.
import type { LabConfig } from './lab-config';
import { isLoopback } from './request-guard';
import { TEACHER_USER } from './web-auth';

/**
 * The settings object for RED.init. `teacherHash` (bcrypt) turns on the editor's login (adminAuth,
 * user "teacher", all permissions): the launcher passes it whenever the lab is exposed. `globals`
 * become Node-RED's global context values (functionGlobalContext; never saved, not listed in the
 * editor): the launcher hands the flows its Lab controls there.
 * No httpAdminCors / httpNodeCors: the lab's pages are its own origin and need no CORS (the
 * launcher's server also drops the "*" Node-RED's admin API adds on its own).
 */
export function nodeRedSettings(config: LabConfig, credentialSecret: string, teacherHash?: string, globals: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    functionGlobalContext: globals,
    ...(teacherHash ? { adminAuth: { type: 'credentials', users: [{ username: TEACHER_USER, password: teacherHash, permissions: '*' }] } } : {}),
    uiHost: config.bind,
    uiPort: config.uiPort,
    userDir: config.userDir,
    flowFile: 'flows.json',
    credentialSecret,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    ui: { path: 'ui' },
    // Not the scanner's job to phone home, nor to install code from the internet.
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
    editorTheme: {
      projects: { enabled: false },
      tours: false,
      page: { title: 'MQTT security lab' },
      header: { title: 'MQTT security lab' },
    },
    functionExternalModules: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    exportGlobalContextKeys: false,
    contextStorage: { default: { module: 'localfilesystem' } },
  };
}

/** True when the editor or dashboard listens beyond this machine. */
export function isExposed(bind: string): boolean {
  return !isLoopback(bind);
}
