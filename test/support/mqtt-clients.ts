// mqtt.js clients for tests that check a broker from the outside (the harness tests of Mosquitto
// and RabbitMQ): a connect that reports the refusal instead of throwing, and cleanup of every
// client a test opened.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** What one connect got: the client, or the broker's refusal code and the error. */
export interface ConnectOutcome {
  client?: MqttClient;
  /** CONNACK return code (3.1.1) or reason code (5) when the broker refused. */
  code?: number;
  error?: Error;
}

const open: MqttClient[] = [];

/** One connect (5 s timeout, no reconnect, MQTT 3.1.1 unless opts say otherwise); never throws. */
export async function tryConnect(url: string, opts: IClientOptions = {}): Promise<ConnectOutcome> {
  try {
    // allowRetries=false: a close without CONNACK rejects instead of hanging.
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, connectTimeout: 5000, reconnectPeriod: 0, ...opts }, false);
    open.push(client);
    return { client };
  } catch (err) {
    return { code: (err as { code?: number }).code, error: err as Error };
  }
}

/** tryConnect that must succeed: throws naming the URL and the error otherwise. */
export async function connectOk(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const outcome = await tryConnect(url, opts);
  if (!outcome.client) throw new Error(`connect to ${url} failed: ${outcome.error?.message}`);
  return outcome.client;
}

/** Ends every client tryConnect opened (for an afterEach hook). */
export async function closeClients(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
}
