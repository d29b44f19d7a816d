// Node-RED settings for the lab: loopback by default, its own user directory, no telemetry, no
// palette installs from the internet, our nodes and the dashboard available.
import type { LabConfig } from './lab-config';

export function nodeRedSettings(config: LabConfig, credentialSecret: string): Record<string, unknown> {
  return {
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
  return !/^(127\.|::1$|localhost$)/.test(bind);
}
