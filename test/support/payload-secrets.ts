// Retained payloads that carry secrets, as devices publish them (issue 16, kind 3): a JSON
// config with a compound key, a TOML file with a password and a credentials list, a topic named
// for its secret, a YAML config, and a query string with a URL login and an API key. Every value
// in `secrets` must appear in no output of a scan that read them.
export const PAYLOAD_SECRETS: Array<{ topic: string; payload: string; secrets: string[] }> = [
  { topic: 'lab/fixtures/esp32-07/config', payload: '{"wifi_ssid":"lab","wifi_password":"Wifi-Pa55-7781"}', secrets: ['Wifi-Pa55-7781'] },
  { topic: 'factory/press1/config', payload: 'password = "plc-Pass-4471"\ncredentials = ["plcadmin", "Cr3d-9917"]\n', secrets: ['plc-Pass-4471', 'plcadmin', 'Cr3d-9917'] },
  { topic: 'home/router/settings/pswd', payload: 'Rout3r-Secret-5532', secrets: ['Rout3r-Secret-5532'] },
  { topic: 'cam/front/config', payload: 'stream:\n  user: camviewer\n  password: Cam-Yaml-8812\n', secrets: ['Cam-Yaml-8812'] },
  { topic: 'meter/7/cloud', payload: 'endpoint=https://meter:Url-Pass-6610@cloud.example/api&api_key=Key-Qs-3390', secrets: ['Url-Pass-6610', 'Key-Qs-3390'] },
];

/** Every secret of PAYLOAD_SECRETS. */
export const ALL_PAYLOAD_SECRETS: string[] = PAYLOAD_SECRETS.flatMap((p) => p.secrets);

/**
 * The device ecosystems' fixtures (test/support/ecosystem-fixtures.ts), all published retained,
 * and what of them must appear in no output: their secrets and the one position they carry.
 */
export { ECOSYSTEM_FIXTURES } from './ecosystem-fixtures';
import { ECOSYSTEM_FIXTURES, FIXTURE_POSITION, FIXTURE_SECRETS } from './ecosystem-fixtures';
export const ECOSYSTEM_MESSAGES = Object.values(ECOSYSTEM_FIXTURES).flatMap((f) => [...f.retained, ...(f.live ?? [])]);
export const ECOSYSTEM_SECRETS: string[] = [...Object.values(FIXTURE_SECRETS), String(FIXTURE_POSITION.lat), String(FIXTURE_POSITION.lon)];
