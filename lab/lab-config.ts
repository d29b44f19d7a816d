// Where the lab listens, from environment variables with defaults. Bad values stop the launcher
// with a message naming the variable.
import { resolve } from 'node:path';

export interface LabConfig {
  bind: string;
  uiPort: number;
  insecurePort: number;
  securePort: number;
  /** The insecure broker over WebSockets (ws, path /mqtt, anonymous). */
  websocketPort: number;
  /** The secure broker over WebSockets with TLS (wss, path /mqtt, passwords). */
  secureWebsocketPort: number;
  userDir: string;
}

export const ENV = {
  bind: 'MQTTSEC_BIND',
  uiPort: 'MQTTSEC_UI_PORT',
  insecurePort: 'LAB_INSECURE_PORT',
  securePort: 'LAB_SECURE_PORT',
  websocketPort: 'LAB_WS_PORT',
  secureWebsocketPort: 'LAB_WSS_PORT',
  userDir: 'MQTTSEC_USERDIR',
} as const;

/** The fields of LabConfig that hold a port. */
export type PortKey = 'uiPort' | 'insecurePort' | 'securePort' | 'websocketPort' | 'secureWebsocketPort';

export class LabConfigError extends Error {}

export function labConfig(env: NodeJS.ProcessEnv = process.env): LabConfig {
  const config: LabConfig = {
    bind: env[ENV.bind] || '127.0.0.1',
    uiPort: port(env, 'uiPort', 1880),
    insecurePort: port(env, 'insecurePort', 1883),
    securePort: port(env, 'securePort', 8883),
    websocketPort: port(env, 'websocketPort', 9001),
    secureWebsocketPort: port(env, 'secureWebsocketPort', 8884),
    userDir: resolve(env[ENV.userDir] || resolve(__dirname, '../../lab/.userdir')),
  };
  const keys: PortKey[] = ['uiPort', 'insecurePort', 'securePort', 'websocketPort', 'secureWebsocketPort'];
  const ports = keys.map((k) => config[k]);
  if (new Set(ports).size !== ports.length) {
    throw new LabConfigError(`${keys.slice(0, -1).map((k) => ENV[k]).join(', ')} and ${ENV.secureWebsocketPort} must be ${keys.length} different ports (got ${ports.join(', ')})`);
  }
  return config;
}

/** The field of `config` that holds `port`, or undefined when no lab port is `port`. */
export function portKeyOf(config: LabConfig, port: unknown): PortKey | undefined {
  const keys: PortKey[] = ['uiPort', 'insecurePort', 'securePort', 'websocketPort', 'secureWebsocketPort'];
  return keys.find((k) => config[k] === port);
}

function port(env: NodeJS.ProcessEnv, key: PortKey, fallback: number): number {
  const raw = env[ENV[key]];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) throw new LabConfigError(`${ENV[key]}="${raw.slice(0, 40)}": must be a port number 1-65535`);
  return n;
}
