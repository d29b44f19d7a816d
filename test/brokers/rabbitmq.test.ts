// The RabbitMQ helper gives a real broker: a private node with the MQTT and Web MQTT
// plugins, reachable over MQTT/TCP, WebSockets and secure WebSockets on 127.0.0.1,
// with anonymous access on or off and users created from a definitions file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { randomPassword } from '../../lab/passwords';
import { RabbitMqBroker, startRabbitMq } from '../support/rabbitmq';
import { requireTool } from '../support/tools';
import { closeClients, connectOk, tryConnect } from '../support/mqtt-clients';

const START_TIMEOUT_MS = 90_000;


/** Subscribes `receiver`, publishes from `sender` (QoS 1) and waits for the message (bounded). */
async function roundTrip(sender: MqttClient, receiver: MqttClient, topic: string, ms = 5000): Promise<void> {
  const payload = `hello ${randomPassword(8)}`;
  const received = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no message on ${topic} within ${ms} ms`)), ms);
    receiver.on('message', (t, p) => {
      if (t === topic) {
        clearTimeout(timer);
        res(p.toString());
      }
    });
  });
  await receiver.subscribeAsync(topic, { qos: 1 });
  await sender.publishAsync(topic, payload, { qos: 1 });
  assert.equal(await received, payload);
}

afterEach(closeClients);

describe('RabbitMQ helper: anonymous node', function () {
  let broker: RabbitMqBroker;

  before(async function () {
    requireTool(this, 'rabbitmq-server');
    this.timeout(START_TIMEOUT_MS);
    broker = await startRabbitMq({ anonymous: true });
  });

  after(async function () {
    this.timeout(START_TIMEOUT_MS);
    await broker?.stop();
  });

  it('listens on distinct loopback ports, with /ws as the WebSocket path and guest/guest as the login', () => {
    assert.equal(broker.host, '127.0.0.1');
    const ports = [broker.mqttPort, broker.wsPort, broker.amqpPort, broker.epmdPort, broker.distPort];
    assert.equal(new Set(ports).size, ports.length);
    assert.equal(broker.wssPort, undefined);
    assert.equal(broker.wsPath, '/ws');
    assert.deepEqual(broker.users, { guest: 'guest' });
    assert.match(broker.log(), /Server startup complete/);
  });

  it('accepts an anonymous MQTT/TCP client that publishes and receives', async () => {
    const url = `mqtt://127.0.0.1:${broker.mqttPort}`;
    const [sub, pub] = await Promise.all([connectOk(url), connectOk(url)]);
    await roundTrip(pub, sub, 'lab/anon/tcp');
  });

  it('accepts an anonymous MQTT over WebSocket client at ws://127.0.0.1:<wsPort>/ws, bridged to MQTT/TCP', async () => {
    const ws = await connectOk(`ws://127.0.0.1:${broker.wsPort}/ws`);
    const tcp = await connectOk(`mqtt://127.0.0.1:${broker.mqttPort}`);
    await roundTrip(ws, ws, 'lab/anon/ws');
    await roundTrip(ws, tcp, 'lab/anon/ws-to-tcp');
  });
});

describe('RabbitMQ helper: node without anonymous access, with wss and a custom WebSocket path', function () {
  let broker: RabbitMqBroker;
  let ca: Buffer;
  const password = randomPassword();
  const login = { username: 'alice', password };

  before(async function () {
    requireTool(this, 'rabbitmq-server');
    this.timeout(START_TIMEOUT_MS);
    broker = await startRabbitMq({ anonymous: false, users: { alice: password }, wss: true, wsPath: '/mqtt' });
    ca = readFileSync(broker.caPath!);
  });

  after(async function () {
    this.timeout(START_TIMEOUT_MS);
    await broker?.stop();
  });

  it('creates only the given users (no guest)', () => {
    assert.deepEqual(broker.users, { alice: password });
    assert.equal(broker.wsPath, '/mqtt');
    assert.ok(broker.wssPort);
  });

  // RabbitMQ 3.10 answers a missing login with 4, where mosquitto answers 5 (not authorized).
  it('refuses a client without a login: CONNACK 4 (bad user name or password) on MQTT 3.1.1', async () => {
    const outcome = await tryConnect(`mqtt://127.0.0.1:${broker.mqttPort}`);
    assert.equal(outcome.client, undefined);
    assert.equal(outcome.code, 4, outcome.error?.message);
  });

  it('refuses guest/guest, which does not exist on this node: CONNACK 4 (bad user name or password)', async () => {
    const outcome = await tryConnect(`mqtt://127.0.0.1:${broker.mqttPort}`, { username: 'guest', password: 'guest' });
    assert.equal(outcome.client, undefined);
    assert.equal(outcome.code, 4, outcome.error?.message);
  });

  it('refuses a created user with a wrong password: CONNACK 4', async () => {
    const outcome = await tryConnect(`mqtt://127.0.0.1:${broker.mqttPort}`, { username: 'alice', password: 'wrong' });
    assert.equal(outcome.client, undefined);
    assert.equal(outcome.code, 4, outcome.error?.message);
  });

  it('accepts the created user over MQTT/TCP, who publishes and receives', async () => {
    const url = `mqtt://127.0.0.1:${broker.mqttPort}`;
    const [sub, pub] = await Promise.all([connectOk(url, login), connectOk(url, login)]);
    await roundTrip(pub, sub, 'lab/auth/tcp');
  });

  it('accepts the created user over ws at the custom path /mqtt', async () => {
    const ws = await connectOk(`ws://127.0.0.1:${broker.wsPort}/mqtt`, login);
    await roundTrip(ws, ws, 'lab/auth/ws');
  });

  it('accepts the created user over wss, verified with the generated CA', async () => {
    const wss = await connectOk(`wss://127.0.0.1:${broker.wssPort}/mqtt`, { ...login, ca, rejectUnauthorized: true });
    const tcp = await connectOk(`mqtt://127.0.0.1:${broker.mqttPort}`, login);
    await roundTrip(wss, tcp, 'lab/auth/wss-to-tcp');
  });

  it('refuses wss from a client that does not trust the generated CA', async () => {
    const outcome = await tryConnect(`wss://127.0.0.1:${broker.wssPort}/mqtt`, { ...login, rejectUnauthorized: true });
    assert.equal(outcome.client, undefined);
    assert.match(outcome.error?.message ?? '', /self[- ]signed|unable to (get|verify)|certificate/i);
  });
});
