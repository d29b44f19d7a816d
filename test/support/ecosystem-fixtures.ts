// Real-looking messages of each device ecosystem the listener recognises (lib/sniff/ecosystems.ts),
// written after each project's own documentation of its topics and payloads (the reference of
// each ecosystem in the table). Addresses in payloads are from TEST-NET (RFC 5737) and made-up
// MACs: nothing here is ever contacted. `retained` messages are published with the retain flag
// before a scan; `live` ones are published again and again while a listener listens (Sparkplug B
// births and data are never retained, by its specification).
import mqtt from 'mqtt';

export interface FixtureMessage {
  topic: string;
  payload: string | Buffer;
}

export interface EcosystemFixture {
  retained: FixtureMessage[];
  live?: FixtureMessage[];
  /** What a listener that heard all of it must report for the ecosystem. */
  expect: {
    devices: number;
    devicesAtLeast?: boolean;
    inventory: string[];
    /** Every command topic, with how it is known. */
    commands: Array<[string, 'seen' | 'announced' | 'layout']>;
    locations: number;
    encryptedLocations?: number;
  };
}

/** Secrets some fixtures carry in their payloads: none may appear in any output. */
export const FIXTURE_SECRETS = {
  zigbeeMqttPassword: 'Zb2m-Secr3t!mqtt',
  zigbeeNetworkKey: '61,17,203,88,142,9,250,77',
  sparkplugToken: 'SPB-tok-9QxZ7cV2mN',
};

/** A latitude/longitude pair some fixtures carry: never printed anywhere. */
export const FIXTURE_POSITION = { lat: 48.858371, lon: 2.294481 };

function sparkplugPayload(metrics: Array<{ name: string; type: string; value: unknown }>, seq: number): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codec = (require('sparkplug-payload') as typeof import('sparkplug-payload')).get('spBv1.0')!;
  return Buffer.from(codec.encodePayload({ timestamp: 1764496800000, seq, metrics } as Parameters<typeof codec.encodePayload>[0]));
}

const z2mDevices = JSON.stringify([
  { ieee_address: '0x00124b0024c1a2b3', type: 'Coordinator', network_address: 0, friendly_name: 'Coordinator', interview_completed: true },
  { ieee_address: '0x0017880104e5f6a7', type: 'Router', network_address: 4711, friendly_name: 'kitchen_lamp', model_id: 'LCT015', manufacturer: 'Signify Netherlands B.V.', software_build_id: '1.93.11', definition: { model: '9290012573A', vendor: 'Philips', description: 'Hue white and color ambiance E26/E27/E14' } },
  { ieee_address: '0x00158d0004a1b2c3', type: 'EndDevice', network_address: 31337, friendly_name: 'hall_motion', model_id: 'lumi.sensor_motion.aq2', manufacturer: 'LUMI', definition: { model: 'RTCGQ11LM', vendor: 'Aqara', description: 'Motion sensor' } },
  { ieee_address: '0x00158d0005d4e5f6', type: 'EndDevice', network_address: 2024, friendly_name: 'front_door_contact', model_id: 'lumi.sensor_magnet.aq2', manufacturer: 'LUMI', definition: { model: 'MCCGQ11LM', vendor: 'Aqara', description: 'Door and window contact sensor' } },
]);

export const ECOSYSTEM_FIXTURES: Record<string, EcosystemFixture> = {
  zigbee2mqtt: {
    retained: [
      { topic: 'zigbee2mqtt/bridge/state', payload: '{"state":"online"}' },
      {
        topic: 'zigbee2mqtt/bridge/info',
        payload: JSON.stringify({
          version: '1.40.2', commit: 'a1b2c3d', coordinator: { ieee_address: '0x00124b0024c1a2b3', type: 'zStack3x0', meta: { revision: 20230507 } },
          network: { channel: 15, pan_id: 6754 }, log_level: 'info', permit_join: false,
          // Older releases published their whole configuration here (Koenkk/zigbee2mqtt#4233).
          config: {
            mqtt: { base_topic: 'zigbee2mqtt', server: 'mqtt://localhost:1883', user: 'z2m', password: 'Zb2m-Secr3t!mqtt' },
            advanced: { network_key: [61, 17, 203, 88, 142, 9, 250, 77, 31, 164, 219, 5, 118, 233, 46, 190], pan_id: 6754 },
          },
        }),
      },
      { topic: 'zigbee2mqtt/bridge/devices', payload: z2mDevices },
      { topic: 'zigbee2mqtt/kitchen_lamp', payload: '{"state":"ON","brightness":180,"color_temp":366,"linkquality":120}' },
      { topic: 'zigbee2mqtt/kitchen_lamp/availability', payload: '{"state":"online"}' },
      { topic: 'zigbee2mqtt/hall_motion', payload: '{"occupancy":false,"battery":91,"illuminance":12,"linkquality":87}' },
      // A request someone published with the retain flag: a command topic seen.
      { topic: 'zigbee2mqtt/bridge/request/permit_join', payload: '{"value":true,"time":254}' },
    ],
    expect: {
      devices: 3,
      inventory: ['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info'],
      commands: [['zigbee2mqtt/bridge/request/permit_join', 'seen'], ['zigbee2mqtt/hall_motion/set', 'layout'], ['zigbee2mqtt/kitchen_lamp/set', 'layout']],
      locations: 0,
    },
  },
  tasmota: {
    retained: [
      { topic: 'tele/tasmota_1A2B3C/LWT', payload: 'Online' },
      { topic: 'tele/tasmota_1A2B3C/INFO1', payload: '{"Info1":{"Module":"Sonoff Basic","Version":"13.2.0(tasmota)","FallbackTopic":"cmnd/DVES_1A2B3C_fb/","GroupTopic":"cmnd/tasmotas/"}}' },
      { topic: 'tele/tasmota_1A2B3C/INFO2', payload: '{"Info2":{"WebServerMode":"Admin","Hostname":"tasmota-1A2B3C-0707","IPAddress":"192.0.2.41"}}' },
      { topic: 'tele/tasmota_1A2B3C/STATE', payload: '{"Time":"2026-11-30T10:00:00","Uptime":"0T05:12:44","POWER":"ON","Wifi":{"AP":1,"SSId":"HomeNet","RSSI":78}}' },
      { topic: 'stat/tasmota_1A2B3C/POWER', payload: 'ON' },
      {
        topic: 'tasmota/discovery/A4CF12B1A2B3/config',
        payload: '{"ip":"192.0.2.41","dn":"Tasmota","fn":["Kitchen plug",null],"hn":"tasmota-1A2B3C-0707","mac":"A4CF12B1A2B3","md":"Sonoff Basic","sw":"13.2.0","t":"tasmota_1A2B3C","ft":"%prefix%/%topic%/","tp":["cmnd","stat","tele"]}',
      },
      // Retained commands are a classic Tasmota mistake (the device replays them at every boot).
      { topic: 'cmnd/tasmota_1A2B3C/POWER', payload: 'ON' },
    ],
    expect: {
      devices: 1,
      inventory: ['tasmota/discovery/A4CF12B1A2B3/config', 'tele/tasmota_1A2B3C/INFO1', 'tele/tasmota_1A2B3C/INFO2'],
      commands: [['cmnd/tasmota_1A2B3C/POWER', 'seen']],
      locations: 0,
    },
  },
  'home-assistant': {
    retained: [
      { topic: 'homeassistant/status', payload: 'online' },
      {
        topic: 'homeassistant/lock/front_door/config',
        payload: JSON.stringify({
          name: 'Front door', unique_id: 'lock_front_door', command_topic: 'home/front_door/set', state_topic: 'home/front_door/state',
          device: { identifiers: ['door-controller-01'], name: 'Door controller', model: 'DC-1', manufacturer: 'Acme', sw_version: '2.4.1' },
        }),
      },
      {
        topic: 'homeassistant/sensor/door-controller-01/battery/config',
        payload: '{"~":"home/front_door","name":"Battery","stat_t":"~/battery","unit_of_meas":"%","dev_cla":"battery","dev":{"ids":"door-controller-01"}}',
      },
      {
        topic: 'homeassistant/cover/garage/config',
        payload: '{"~":"home/garage_door","name":"Garage door","cmd_t":"~/set","stat_t":"~/state","pos_t":"~/position","set_pos_t":"~/position/set","dev":{"ids":["garage-ctl-7"],"mdl":"GC-2"}}',
      },
    ],
    expect: {
      devices: 2,
      inventory: ['homeassistant/cover/garage/config', 'homeassistant/lock/front_door/config', 'homeassistant/sensor/door-controller-01/battery/config'],
      commands: [['home/front_door/set', 'announced'], ['home/garage_door/position/set', 'announced'], ['home/garage_door/set', 'announced']],
      locations: 0,
    },
  },
  esphome: {
    retained: [
      {
        topic: 'esphome/discover/garage-node',
        payload: '{"ip":"192.0.2.52","name":"garage-node","friendly_name":"Garage","port":6053,"version":"2024.11.1","mac":"246f28a1b2c3","platform":"ESP32","board":"esp32dev","network":"wifi"}',
      },
      { topic: 'garage-node/status', payload: 'online' },
      { topic: 'garage-node/switch/garage_door_relay/state', payload: 'OFF' },
      { topic: 'garage-node/sensor/garage_temperature/state', payload: '12.5' },
    ],
    expect: {
      devices: 1,
      inventory: ['esphome/discover/garage-node'],
      commands: [['garage-node/switch/garage_door_relay/command', 'layout']],
      locations: 0,
    },
  },
  shelly: {
    retained: [
      { topic: 'shellies/announce', payload: '{"id":"shelly1-98CDAC1F2E3D","model":"SHSW-1","mac":"98CDAC1F2E3D","ip":"192.0.2.61","new_fw":false,"fw_ver":"20230913-112003/v1.14.0-gcb84623"}' },
      { topic: 'shellies/shelly1-98CDAC1F2E3D/online', payload: 'true' },
      { topic: 'shellies/shelly1-98CDAC1F2E3D/relay/0', payload: 'on' },
      { topic: 'shellyplus1pm-a8032ab12345/online', payload: 'true' },
      { topic: 'shellyplus1pm-a8032ab12345/status/switch:0', payload: '{"id":0,"source":"init","output":false,"apower":0.0,"voltage":231.2,"current":0.0}' },
    ],
    expect: {
      devices: 2,
      inventory: ['shellies/announce'],
      commands: [['shellies/shelly1-98CDAC1F2E3D/command', 'layout'], ['shellyplus1pm-a8032ab12345/rpc', 'layout']],
      locations: 0,
    },
  },
  owntracks: {
    retained: [
      {
        topic: 'owntracks/alice/phone',
        payload: JSON.stringify({ _type: 'location', tid: 'ap', lat: FIXTURE_POSITION.lat, lon: FIXTURE_POSITION.lon, acc: 12, alt: 41, batt: 81, tst: 1764496800, vel: 0, conn: 'w' }),
      },
      { topic: 'owntracks/alice/phone/info', payload: '{"_type":"card","name":"Alice","tid":"ap"}' },
      // OwnTracks' payload encryption: ciphertext, no position readable.
      { topic: 'owntracks/bob/tablet', payload: '{"_type":"encrypted","data":"uPG9WXEZ8Bpgq7CLYhGR4Q1wz3eLkKTrMnxb6JVsoaFd2iNy5Hc0mIuOSv/AeD+kgRHqPzYl7t9fWBXQ=="}' },
    ],
    expect: {
      devices: 2,
      inventory: ['owntracks/alice/phone/info'],
      commands: [['owntracks/alice/phone/cmd', 'layout'], ['owntracks/bob/tablet/cmd', 'layout']],
      locations: 1,
      encryptedLocations: 1,
    },
  },
  'sparkplug-b': {
    retained: [{ topic: 'spBv1.0/STATE/scada-host-1', payload: '{"online":true,"timestamp":1764496800000}' }],
    live: [
      {
        topic: 'spBv1.0/plant1/NBIRTH/edge7',
        payload: sparkplugPayload([
          { name: 'bdSeq', type: 'Int64', value: 0 },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          { name: 'Node Control/Reboot', type: 'Boolean', value: false },
          { name: 'Properties/Hardware Make', type: 'String', value: 'Acme PLC 5' },
          { name: 'Properties/Api Token', type: 'String', value: 'SPB-tok-9QxZ7cV2mN' },
        ], 0),
      },
      {
        topic: 'spBv1.0/plant1/DBIRTH/edge7/press3',
        payload: sparkplugPayload([
          { name: 'Inputs/Pressure', type: 'Float', value: 181.5 },
          { name: 'Outputs/Valve', type: 'Boolean', value: true },
        ], 1),
      },
      { topic: 'spBv1.0/plant1/DDATA/edge7/press3', payload: sparkplugPayload([{ name: 'Inputs/Pressure', type: 'Float', value: 182.25 }], 2) },
    ],
    expect: {
      devices: 2,
      inventory: ['spBv1.0/plant1/DBIRTH/edge7/press3', 'spBv1.0/plant1/NBIRTH/edge7'],
      commands: [['spBv1.0/plant1/DCMD/edge7/press3', 'layout'], ['spBv1.0/plant1/NCMD/edge7', 'layout']],
      locations: 0,
    },
  },
  homie: {
    retained: [
      { topic: 'homie/living-room-node/$homie', payload: '4.0.0' },
      { topic: 'homie/living-room-node/$name', payload: 'Living room' },
      { topic: 'homie/living-room-node/$state', payload: 'ready' },
      { topic: 'homie/living-room-node/$nodes', payload: 'thermostat' },
      { topic: 'homie/living-room-node/thermostat/$properties', payload: 'setpoint,temperature' },
      { topic: 'homie/living-room-node/thermostat/setpoint', payload: '21.0' },
      { topic: 'homie/living-room-node/thermostat/setpoint/$settable', payload: 'true' },
      { topic: 'homie/living-room-node/thermostat/temperature', payload: '20.4' },
    ],
    expect: {
      devices: 1,
      inventory: [
        'homie/living-room-node/$homie', 'homie/living-room-node/$name', 'homie/living-room-node/$nodes',
        'homie/living-room-node/thermostat/$properties', 'homie/living-room-node/thermostat/setpoint/$settable',
      ],
      commands: [['homie/living-room-node/thermostat/setpoint/set', 'announced']],
      locations: 0,
    },
  },
  'lab-esp32': {
    retained: [
      { topic: 'lab/insecure/esp32-a1b2c3d4e5f6/pir', payload: '{"motion":false}' },
      { topic: 'lab/insecure/esp32-a1b2c3d4e5f6/status', payload: 'online' },
    ],
    expect: { devices: 1, inventory: [], commands: [], locations: 0 },
  },
};

/** Publishes the retained messages of `ids` (QoS 1, retain) to a broker on 127.0.0.1. */
export async function publishRetainedFixtures(port: number, ids = Object.keys(ECOSYSTEM_FIXTURES), protocolVersion: 4 | 5 = 4): Promise<void> {
  const pub = await mqtt.connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion });
  try {
    for (const id of ids) for (const m of ECOSYSTEM_FIXTURES[id].retained) await pub.publishAsync(m.topic, m.payload, { qos: 1, retain: true });
  } finally {
    await pub.endAsync();
  }
}

/**
 * Publishes the live messages of `ids` every `everyMs` (non-retained, QoS 0) until stopped, at most
 * `maxRounds` rounds. Returns the function that stops it.
 */
export async function publishLiveFixtures(port: number, ids = Object.keys(ECOSYSTEM_FIXTURES), everyMs = 200, maxRounds = 300): Promise<() => Promise<void>> {
  const live = ids.flatMap((id) => ECOSYSTEM_FIXTURES[id].live ?? []);
  const pub = await mqtt.connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
  let rounds = 0;
  const timer = setInterval(() => {
    if (++rounds > maxRounds) return clearInterval(timer);
    for (const m of live) pub.publish(m.topic, m.payload, { qos: 0 });
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await pub.endAsync();
  };
}
