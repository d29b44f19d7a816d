// Where the lab listens, from environment variables with defaults. Bad values stop the launcher
// with a message naming the variable.
import { resolve } from 'node:path';

export interface LabConfig {
  bind: string;
  uiPort: number;
  insecurePort: number;
  securePort: number;
  userDir: string;
}

export const ENV = {
  bind: 'MQTTSEC_BIND',
  uiPort: 'MQTTSEC_UI_PORT',
  insecurePort: 'LAB_INSECURE_PORT',
  securePort: 'LAB_SECURE_PORT',
  userDir: 'MQTTSEC_USERDIR',
} as const;

export class LabConfigError extends Error {}

export function labConfig(env: NodeJS.ProcessEnv = process.env): LabConfig {
  const config: LabConfig = {
    bind: env[ENV.bind] || '127.0.0.1',
    uiPort: port(env, 'uiPort', 1880),
    insecurePort: port(env, 'insecurePort', 1883),
    securePort: port(env, 'securePort', 8883),
    userDir: resolve(env[ENV.userDir] || resolve(__dirname, '../../lab/.userdir')),
  };
  const ports = [config.uiPort, config.insecurePort, config.securePort];
  if (new Set(ports).size !== ports.length) {
    throw new LabConfigError(`${ENV.uiPort}, ${ENV.insecurePort} and ${ENV.securePort} must be three different ports (got ${ports.join(', ')})`);
  }
  return config;
}

function port(env: NodeJS.ProcessEnv, key: 'uiPort' | 'insecurePort' | 'securePort', fallback: number): number {
  const raw = env[ENV[key]];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) throw new LabConfigError(`${ENV[key]}="${raw.slice(0, 40)}": must be a port number 1-65535`);
  return n;
}
