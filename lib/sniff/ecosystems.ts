// The device ecosystems the listener recognises, as data: which topics each one uses, what a
// topic is to it (inventory, command, location, telemetry, status), which level names the device,
// and which command topic a device of it always has. lib/sniff/devices.ts runs the table; adding
// an ecosystem is adding rows here (and a fixture in test/support/ecosystem-fixtures.ts).
//
// Patterns are topic levels: a literal level, '+' (any one level), '#' (the rest, last only) or
// '{name}' (any one level, captured). `device` names the captures that make the device id, joined
// with '/'. A row with `anchor` matches only when another topic of the same ecosystem, matched by
// a row without one, captured the same value for that capture (Zigbee2MQTT's "<base>/<device>/set"
// counts only under a base that has "<base>/bridge/…" topics). The first matching row wins, so
// specific rows come before general ones, and ESPHome's layout (a device name as the first level)
// comes last.
import type { TopicRole } from '../types';

/** A reader of payloads: named here, implemented in lib/sniff/devices.ts. */
export type PayloadReader = 'z2m-devices' | 'ha-config' | 'tasmota-discovery' | 'owntracks' | 'sparkplug-birth' | 'homie-settable';

export interface TopicRule {
  /** Topic levels separated by '/', see the file's head. */
  pattern: string;
  role: TopicRole;
  /** Captures that make the device id ('user', 'device' -> "alice/phone"); none: no device. */
  device?: readonly string[];
  /** A capture another topic of the ecosystem must have confirmed (see the file's head). */
  anchor?: string;
  /** Constraints on captured levels. */
  levels?: Readonly<Record<string, RegExp>>;
  /** What the payload is read for (bounded; see lib/sniff/devices.ts). */
  reads?: PayloadReader;
  /** The payload is protobuf: shown as binary (its strings are never printed as text). */
  protobuf?: true;
}

export interface Ecosystem {
  id: string;
  name: string;
  /** What its exposure means, in one sentence. */
  reveals: string;
  /** The ecosystem's own documentation of its topics. */
  reference: string;
  rules: readonly TopicRule[];
  /**
   * The command topic every device of the ecosystem listens on, from the captures of one of its
   * topics (a Tasmota device's "cmnd/<topic>/POWER"); null when the topic says none.
   */
  commandTopic?: (captures: Readonly<Record<string, string>>, role: TopicRole) => string | null;
}

/** ESPHome's MQTT component types (esphome.io/components/mqtt), and those that take commands. */
const ESPHOME_COMPONENTS = /^(?:sensor|binary_sensor|text_sensor|switch|light|fan|cover|climate|number|select|button|lock|text|valve|alarm_control_panel|datetime|date|time|update|event)$/;
const ESPHOME_COMMANDED = /^(?:switch|light|fan|cover|climate|number|select|button|lock|text|valve|alarm_control_panel|datetime|date|time|update)$/;
/** A Shelly Gen2+ device id, its default topic prefix: "shellyplus1pm-a8032ab12345". */
const SHELLY_GEN2_ID = /^shelly[a-z0-9]*-[0-9a-f]{6,12}$/i;
/** An ESPHome node name (its topic prefix): not a first level of the ecosystems above, not $SYS. */
const ESPHOME_NAME = /^(?!(?:homeassistant|homie|owntracks|shellies|spBv1\.0|tele|stat|cmnd|tasmota|zigbee2mqtt|lab)$)[^$]/;

export const ECOSYSTEMS: readonly Ecosystem[] = [
  {
    id: 'lab-esp32',
    name: 'Lab ESP32 (mqttsec)',
    reveals: "The lab board's sensor readings and its device id, which carries the board's Wi-Fi MAC address.",
    reference: 'firmware/esp32_mixed_security (this project)',
    rules: [
      { pattern: 'lab/{broker}/{device}/status', role: 'status', device: ['device'], levels: { broker: /^(?:secure|insecure)$/ } },
      { pattern: 'lab/{broker}/{device}/{sensor}', role: 'telemetry', device: ['device'], levels: { broker: /^(?:secure|insecure)$/, sensor: /^(?:dht|ldr|pir)$/ } },
    ],
  },
  {
    id: 'zigbee2mqtt',
    name: 'Zigbee2MQTT',
    reveals: "Every paired Zigbee device (IEEE address, model, vendor, firmware) and the bridge's settings; its request and set topics pair devices and switch them.",
    reference: 'https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html',
    rules: [
      { pattern: '{base}/bridge/devices', role: 'inventory', reads: 'z2m-devices' },
      { pattern: '{base}/bridge/info', role: 'inventory' },
      { pattern: '{base}/bridge/groups', role: 'inventory' },
      { pattern: '{base}/bridge/definitions', role: 'inventory' },
      { pattern: '{base}/bridge/extensions', role: 'inventory' },
      { pattern: '{base}/bridge/request/#', role: 'command' },
      { pattern: '{base}/bridge/state', role: 'status' },
      { pattern: '{base}/bridge/response/#', role: 'status' },
      { pattern: '{base}/bridge/{topic}', role: 'status', levels: { topic: /^(?:event|logging|log|config|health|converters)$/ } },
      { pattern: '{base}/{device}/set', role: 'command', device: ['device'], anchor: 'base' },
      { pattern: '{base}/{device}/set/+', role: 'command', device: ['device'], anchor: 'base' },
      { pattern: '{base}/{device}/get', role: 'command', device: ['device'], anchor: 'base' },
      { pattern: '{base}/{device}/get/+', role: 'command', device: ['device'], anchor: 'base' },
      { pattern: '{base}/{device}/availability', role: 'status', device: ['device'], anchor: 'base' },
      { pattern: '{base}/{device}', role: 'telemetry', device: ['device'], anchor: 'base', levels: { device: /^(?!bridge$)/ } },
    ],
    commandTopic: (c, role) => (c.device && role !== 'command' ? `${c.base}/${c.device}/set` : null),
  },
  {
    id: 'tasmota',
    name: 'Tasmota',
    reveals: 'Each device\'s module, firmware version, host name and IP address, its power state and sensors; its cmnd topics switch relays and can change the whole configuration (Backlog, OtaUrl, Upgrade).',
    reference: 'https://tasmota.github.io/docs/MQTT/',
    rules: [
      // Discovery topics name the device by its MAC address; its commands go to its topic, in the payload.
      { pattern: 'tasmota/discovery/{mac}/config', role: 'inventory', device: ['mac'], reads: 'tasmota-discovery' },
      { pattern: 'tasmota/discovery/{mac}/sensors', role: 'inventory', device: ['mac'] },
      { pattern: 'tele/{device}/{what}', role: 'inventory', device: ['device'], levels: { what: /^INFO\d$/ } },
      { pattern: 'tele/{device}/LWT', role: 'status', device: ['device'] },
      { pattern: 'tele/{device}/+', role: 'telemetry', device: ['device'] },
      { pattern: 'stat/{device}/{what}', role: 'inventory', device: ['device'], levels: { what: /^STATUS\d*$/ } },
      { pattern: 'stat/{device}/+', role: 'telemetry', device: ['device'] },
      { pattern: 'cmnd/{device}/+', role: 'command', device: ['device'] },
    ],
    commandTopic: (c, role) => (c.device && role !== 'command' ? `cmnd/${c.device}/POWER` : null),
  },
  {
    id: 'home-assistant',
    name: 'Home Assistant MQTT discovery',
    reveals: "Every entity the home announces (locks, alarms, covers, lights, sensors) with the device's name, model and firmware, and the command topic that operates it; anyone who can publish here can also add fake entities.",
    reference: 'https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery',
    rules: [
      { pattern: 'homeassistant/status', role: 'status' },
      { pattern: 'homeassistant/{component}/{node}/{object}/config', role: 'inventory', device: ['node'], levels: { component: /^[a-z_]+$/ }, reads: 'ha-config' },
      { pattern: 'homeassistant/{component}/{object}/config', role: 'inventory', device: ['object'], levels: { component: /^[a-z_]+$/ }, reads: 'ha-config' },
    ],
  },
  {
    id: 'shelly',
    name: 'Shelly',
    reveals: "Each device's model, MAC and IP address, firmware and available update, and its relay and power state; its command and rpc topics switch relays, reboot the device and start firmware updates.",
    reference: 'https://shelly-api-docs.shelly.cloud/gen1/#mqtt-support',
    rules: [
      { pattern: 'shellies/announce', role: 'inventory' },
      { pattern: 'shellies/command', role: 'command' },
      { pattern: 'shellies/{device}/announce', role: 'inventory', device: ['device'] },
      { pattern: 'shellies/{device}/info', role: 'inventory', device: ['device'] },
      { pattern: 'shellies/{device}/online', role: 'status', device: ['device'] },
      { pattern: 'shellies/{device}/command', role: 'command', device: ['device'] },
      { pattern: 'shellies/{device}/+/+/command', role: 'command', device: ['device'] },
      { pattern: 'shellies/{device}/+/+/command/+', role: 'command', device: ['device'] },
      { pattern: 'shellies/{device}/#', role: 'telemetry', device: ['device'] },
      // Gen2 and later: the device id is the default topic prefix.
      { pattern: '{gen2}/rpc', role: 'command', device: ['gen2'], levels: { gen2: SHELLY_GEN2_ID } },
      { pattern: '{gen2}/command', role: 'command', device: ['gen2'], levels: { gen2: SHELLY_GEN2_ID } },
      { pattern: '{gen2}/command/+', role: 'command', device: ['gen2'], levels: { gen2: SHELLY_GEN2_ID } },
      { pattern: '{gen2}/online', role: 'status', device: ['gen2'], levels: { gen2: SHELLY_GEN2_ID } },
      { pattern: '{gen2}/#', role: 'telemetry', device: ['gen2'], levels: { gen2: SHELLY_GEN2_ID } },
    ],
    commandTopic: (c, role) => {
      if (role === 'command') return null;
      return c.gen2 ? `${c.gen2}/rpc` : c.device ? `shellies/${c.device}/command` : null;
    },
  },
  {
    id: 'owntracks',
    name: 'OwnTracks',
    reveals: "Where people are: each phone's position, speed and battery, the places it enters and leaves, and its saved regions (home, work).",
    reference: 'https://owntracks.org/booklet/tech/json/',
    rules: [
      { pattern: 'owntracks/{user}/{device}', role: 'location', device: ['user', 'device'], reads: 'owntracks' },
      { pattern: 'owntracks/{user}/{device}/event', role: 'location', device: ['user', 'device'], reads: 'owntracks' },
      { pattern: 'owntracks/{user}/{device}/waypoint', role: 'location', device: ['user', 'device'], reads: 'owntracks' },
      { pattern: 'owntracks/{user}/{device}/waypoints', role: 'location', device: ['user', 'device'], reads: 'owntracks' },
      { pattern: 'owntracks/{user}/{device}/cmd', role: 'command', device: ['user', 'device'] },
      { pattern: 'owntracks/{user}/{device}/info', role: 'inventory', device: ['user', 'device'] },
      { pattern: 'owntracks/{user}/{device}/dump', role: 'inventory', device: ['user', 'device'] },
      { pattern: 'owntracks/{user}/{device}/#', role: 'status', device: ['user', 'device'] },
    ],
    commandTopic: (c, role) => (c.user && c.device && role !== 'command' ? `owntracks/${c.user}/${c.device}/cmd` : null),
  },
  {
    id: 'sparkplug-b',
    name: 'Sparkplug B',
    reveals: 'The plant\'s structure (groups, edge nodes, devices) and every metric they declare, with live values; NCMD and DCMD topics write to machines and can rebirth or reboot edge nodes.',
    reference: 'https://sparkplug.eclipse.org/specification/version/3.0/documents/sparkplug-specification-3.0.0.pdf',
    rules: [
      { pattern: 'spBv1.0/STATE/{host}', role: 'status' },
      { pattern: 'spBv1.0/{group}/NBIRTH/{edge}', role: 'inventory', device: ['group', 'edge'], reads: 'sparkplug-birth', protobuf: true },
      { pattern: 'spBv1.0/{group}/DBIRTH/{edge}/{device}', role: 'inventory', device: ['group', 'edge', 'device'], reads: 'sparkplug-birth', protobuf: true },
      { pattern: 'spBv1.0/{group}/NCMD/{edge}', role: 'command', device: ['group', 'edge'], protobuf: true },
      { pattern: 'spBv1.0/{group}/DCMD/{edge}/{device}', role: 'command', device: ['group', 'edge', 'device'], protobuf: true },
      { pattern: 'spBv1.0/{group}/NDATA/{edge}', role: 'telemetry', device: ['group', 'edge'], protobuf: true },
      { pattern: 'spBv1.0/{group}/DDATA/{edge}/{device}', role: 'telemetry', device: ['group', 'edge', 'device'], protobuf: true },
      { pattern: 'spBv1.0/{group}/NDEATH/{edge}', role: 'status', device: ['group', 'edge'], protobuf: true },
      { pattern: 'spBv1.0/{group}/DDEATH/{edge}/{device}', role: 'status', device: ['group', 'edge', 'device'], protobuf: true },
    ],
    commandTopic: (c, role) => {
      if (role === 'command' || !c.group || !c.edge) return null;
      return c.device ? `spBv1.0/${c.group}/DCMD/${c.edge}/${c.device}` : `spBv1.0/${c.group}/NCMD/${c.edge}`;
    },
  },
  {
    id: 'homie',
    name: 'Homie',
    reveals: "Each device's name, firmware, IP and MAC address, its nodes and properties with their values; properties marked $settable take commands on their set topics.",
    reference: 'https://homieiot.github.io/specification/',
    rules: [
      // Homie 5: homie/5/<device>/…
      { pattern: 'homie/5/{device}/$description', role: 'inventory', device: ['device'] },
      { pattern: 'homie/5/{device}/$state', role: 'status', device: ['device'] },
      { pattern: 'homie/5/{device}/{node}/{property}/set', role: 'command', device: ['device'] },
      { pattern: 'homie/5/{device}/#', role: 'telemetry', device: ['device'] },
      // Homie 3 and 4.
      { pattern: 'homie/{device}/$homie', role: 'inventory', device: ['device'] },
      { pattern: 'homie/{device}/$state', role: 'status', device: ['device'], anchor: 'device' },
      { pattern: 'homie/{device}/{node}/{property}/$settable', role: 'inventory', device: ['device'], anchor: 'device', reads: 'homie-settable' },
      { pattern: 'homie/{device}/{node}/{property}/set', role: 'command', device: ['device'], anchor: 'device' },
      { pattern: 'homie/{device}/{node}/{property}', role: 'telemetry', device: ['device'], anchor: 'device', levels: { node: /^[^$]/, property: /^[^$]/ } },
      { pattern: 'homie/{device}/#', role: 'inventory', device: ['device'], anchor: 'device' },
    ],
  },
  {
    id: 'esphome',
    name: 'ESPHome',
    reveals: "Each node's IP and MAC address, ESPHome version and board (its discovery message), and every sensor and switch; the command topics of switches, lights, locks and covers operate them.",
    reference: 'https://esphome.io/components/mqtt.html',
    rules: [
      { pattern: 'esphome/discover/{device}', role: 'inventory', device: ['device'] },
      { pattern: '{device}/{component}/{object}/command', role: 'command', device: ['device'], levels: { device: ESPHOME_NAME, component: ESPHOME_COMPONENTS } },
      { pattern: '{device}/{component}/{object}/+/command', role: 'command', device: ['device'], levels: { device: ESPHOME_NAME, component: ESPHOME_COMPONENTS } },
      { pattern: '{device}/{component}/{object}/state', role: 'telemetry', device: ['device'], levels: { device: ESPHOME_NAME, component: ESPHOME_COMPONENTS } },
      { pattern: '{device}/{component}/{object}/+/state', role: 'telemetry', device: ['device'], levels: { device: ESPHOME_NAME, component: ESPHOME_COMPONENTS } },
      { pattern: '{device}/status', role: 'status', device: ['device'], anchor: 'device' },
      { pattern: '{device}/debug', role: 'status', device: ['device'], anchor: 'device' },
    ],
    commandTopic: (c, role) => (role === 'telemetry' && c.component && c.object && ESPHOME_COMMANDED.test(c.component) ? `${c.device}/${c.component}/${c.object}/command` : null),
  },
];
