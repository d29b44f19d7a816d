// A simulated ESP32 for when no board is at hand: the same topics, payloads, cadence, retain flags
// and last wills as firmware/, all taken from lib/sniff/lab-device.ts so the two cannot drift.
import mqtt, { type MqttClient } from 'mqtt';
import {
  PUBLISH_INTERVAL_MS,
  clientId,
  readingMessage,
  simulateReading,
  statusMessage,
  type BrokerRole,
  type LabMessage,
  type SensorKind,
  type SensorReading,
} from '../lib/sniff/lab-device';

/** A login for one broker. */
export interface SimulatorLogin {
  username: string;
  password: string;
}

export interface SimulatorOptions {
  deviceId?: string;
  /** The insecure broker; anonymous, as the firmware connects, unless `login` is given. */
  insecure: { host: string; port: number; login?: SimulatorLogin | null };
  secure: { host: string; port: number; ca: string | Buffer; username: string; password: string };
  intervalMs?: number;
  rng?: () => number;
  /** Called with every message actually published (for tests and the launcher's log). */
  onPublish?: (m: LabMessage) => void;
}

export interface Simulator {
  deviceId: string;
  /**
   * The login for the insecure broker from the next CONNECT on (null: anonymous): the lab's
   * controls give the device the esp32 login when that broker requires one or has an ACL. The
   * client reconnects by itself (every 2 s) after the broker closed its connection.
   */
  setInsecureLogin(login: SimulatorLogin | null): void;
  stop(): Promise<void>;
}

const SENSORS: SensorKind[] = ['dht', 'ldr', 'pir'];

export function startSimulatedEsp32(opts: SimulatorOptions): Simulator {
  const deviceId = opts.deviceId ?? 'esp32-sim01';
  const rng = opts.rng ?? Math.random;
  const clients: Record<BrokerRole, MqttClient> = {
    insecure: connect('insecure', `mqtt://${hostPart(opts.insecure.host)}:${opts.insecure.port}`, opts.insecure.login ? { ...opts.insecure.login } : {}),
    secure: connect('secure', `mqtts://${hostPart(opts.secure.host)}:${opts.secure.port}`, {
      ca: opts.secure.ca,
      username: opts.secure.username,
      password: opts.secure.password,
      // The lab CA is pinned, as on the board; the certificate names localhost and 127.0.0.1.
      rejectUnauthorized: true,
    }),
  };
  const last: Partial<Record<SensorKind, SensorReading>> = {};

  function connect(role: BrokerRole, url: string, extra: mqtt.IClientOptions): MqttClient {
    const will = statusMessage(role, deviceId, false);
    const client = mqtt.connect(url, {
      clientId: clientId(deviceId, role),
      protocolVersion: 4,
      reconnectPeriod: 2000,
      // A refused login is retried too, as the board does (Lab controls may require one later).
      reconnectOnConnackError: true,
      connectTimeout: 5000,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos as 0 | 1, retain: will.retain },
      ...extra,
    });
    client.on('connect', () => publish(statusMessage(role, deviceId, true)));
    client.on('error', () => undefined); // reconnects by itself, like the board
    return client;
  }

  function publish(m: LabMessage) {
    const client = clients[m.broker];
    if (!client.connected) return;
    client.publish(m.topic, m.payload, { qos: m.qos as 0 | 1, retain: m.retain }, (err) => {
      if (!err) opts.onPublish?.(m);
    });
  }

  function tick() {
    for (const kind of SENSORS) {
      const reading = simulateReading(kind, rng, last[kind]);
      last[kind] = reading;
      const m = readingMessage(deviceId, reading);
      if (m) publish(m);
    }
  }

  const timer = setInterval(tick, opts.intervalMs ?? PUBLISH_INTERVAL_MS);
  const firstTick = setTimeout(tick, 500);

  return {
    deviceId,
    setInsecureLogin(login) {
      // MQTT.js builds each CONNECT (the reconnects too) from client.options.
      const options = clients.insecure.options;
      if (login) Object.assign(options, { username: login.username, password: login.password });
      else {
        delete options.username;
        delete options.password;
      }
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(firstTick);
      // A clean stop publishes "offline" itself; the will covers a crash.
      await Promise.all(
        (Object.keys(clients) as BrokerRole[]).map(async (role) => {
          const c = clients[role];
          if (c.connected) {
            const m = statusMessage(role, deviceId, false);
            await c.publishAsync(m.topic, m.payload, { qos: 0, retain: true }).catch(() => undefined);
          }
          await c.endAsync(true).catch(() => undefined);
        }),
      );
    },
  };
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
