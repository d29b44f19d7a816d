// The scan form: what the user typed -> a scan request, or the message that says what to fix; the
// form's values sent back to it (never the password); the scan message for the target expander.
import { fieldText, record } from './read';
import { parsePorts, PORT_PRESETS } from '../targets';
import { checkScanCa, ScanCaError, SCAN_CA_MAX_CHARS } from '../tls';
import type { CurrentScan, RunningScan, ViewMessage } from './types';

/** Ports when neither the form nor MQTTSEC_LAB_PORTS gives any. */
export const FALLBACK_PORTS = '1883,8883';
/** The target the form starts with when MQTTSEC_LAB_TARGET is not set. */
export const FALLBACK_TARGET = '127.0.0.1';
/** Seconds the sniffer listens when the form leaves the field empty. */
export const DEFAULT_LISTEN_S = 10;
/** Longest the form believes a scan still runs (ms): after this a lost scan no longer blocks it. */
export const RUNNING_LOCK_MS = 15 * 60 * 1000;

/** The form's fields as the ui_form node takes and gives them. */
export interface ScanFormValues {
  target: string;
  ports: string;
  username: string;
  /** Always '' in what the dashboard sends to the form. */
  password: string;
  /** Seconds, as typed (a number, or text the check refused). */
  listen: number | string;
  writeTest: boolean;
  sendCredentialsPlaintext: boolean;
  /** Also try well-known default logins (admin/admin, ...), as mqtt-scan --try-defaults. */
  tryDefaults: boolean;
  /** A CA certificate (PEM) for brokers the lab CA does not sign; '' for none. Always '' in a refill. */
  ca: string;
}

/** A checked form: what the scan needs. */
export interface FormScanRequest {
  target: string;
  ports: string;
  username: string;
  password: string;
  /** Seconds the sniffer listens, 0-60 (0: no sniffing). */
  listen: number;
  writeTest: boolean;
  sendCredentialsPlaintext: boolean;
  tryDefaults: boolean;
  /** Checked PEM (lib/tls checkScanCa), '' for none. */
  ca: string;
}

/** The outcome of checkScanForm: the request, or the refusal; either way the values to refill the form with. */
export type FormCheck = { ok: true; request: FormScanRequest; refill: ScanFormValues } | { ok: false; message: string; refill: ScanFormValues };

/**
 * Checks a submitted form (msg.payload of the ui_form). Refuses, with a message naming the field
 * and an example, while another scan started less than RUNNING_LOCK_MS before `now`, an empty or
 * over-long target, ports other than numbers, ranges and presets (lib/targets PORT_PRESETS), a listen time outside 0-60
 * s, a password without a username, a username without a password (the form clears the
 * password after each scan, so a second Start must not scan with none), and a CA field that is not
 * PEM certificates (lib/tls checkScanCa). Ports default to
 * `defaultPorts`, listen to 10 s.
 */
export function checkScanForm(form: unknown, opts: { defaultPorts: string; running?: unknown; now: number }): FormCheck {
  const f = record(form);
  const target = fieldText(f.target);
  const ports = fieldText(f.ports) || opts.defaultPorts || FALLBACK_PORTS;
  const username = fieldText(f.username);
  const password = typeof f.password === 'string' ? f.password : '';
  const listenEmpty = fieldText(f.listen) === '';
  const listen = listenEmpty ? DEFAULT_LISTEN_S : Number(f.listen);
  const writeTest = f.writeTest === true;
  const sendCredentialsPlaintext = f.sendCredentialsPlaintext === true;
  const tryDefaults = f.tryDefaults === true;
  const typedCa = typeof f.ca === 'string' ? f.ca.slice(0, SCAN_CA_MAX_CHARS + 1) : '';
  const typedListen = typeof f.listen === 'number' || typeof f.listen === 'string' ? f.listen : fieldText(f.listen);
  // The CA field is never sent back: a refill reaches every tab, and the field may hold what it
  // must not (a private key pasted with the certificate).
  const refill: ScanFormValues = { target, ports, username, password: '', listen: listenEmpty ? DEFAULT_LISTEN_S : typedListen, writeTest, sendCredentialsPlaintext, tryDefaults, ca: '' };
  const refuse = (message: string): FormCheck => ({ ok: false, message, refill });
  const running = record(opts.running);
  if (opts.running && typeof running.at === 'number' && opts.now - running.at < RUNNING_LOCK_MS) return refuse('A scan is running: wait for it or cancel it first.');
  if (!target || target.length > 200) return refuse('Target: enter an address, a range or a network, e.g. 127.0.0.1 or 127.0.0.0/29.');
  if (!portsValid(ports)) return refuse(`Ports: numbers, ranges or a preset (${Object.keys(PORT_PRESETS).join(', ')}), e.g. 1883,8883, 8000-8010 or mqtt-all (adds the WebSocket ports).`);
  if (!Number.isFinite(listen) || listen < 0 || listen > 60) return refuse('Listen for: 0 to 60 seconds (0 = do not listen to topics).');
  if (!username && password) return refuse('Password given without a username: enter both, or neither.');
  // The form never keeps a password after a scan: a username left in it must not scan with none.
  // The refusal is shown in every open tab: it never repeats what was typed (a username could carry
  // a message to the other tabs' users).
  if (username && !password) return refuse('Password: a username without a password. Enter the password too, or clear Username to scan without a login.');
  let ca: string;
  try {
    ca = checkScanCa(typedCa);
  } catch (err) {
    if (err instanceof ScanCaError) return refuse(`CA certificate: ${err.message}. Paste the CA's PEM text, or leave the field empty.`);
    throw err;
  }
  return { ok: true, request: { target, ports, username, password, listen, writeTest, sendCredentialsPlaintext, tryDefaults, ca }, refill };
}

/** At most 200 characters that parsePorts takes: numbers, ranges, preset names. */
function portsValid(ports: string): boolean {
  if (ports.length > 200) return false;
  try {
    parsePorts(ports);
    return true;
  } catch {
    return false;
  }
}

/** The form as the dashboard (re)starts: the lab's target and ports, no login, listen 10 s. */
export function initialForm(env: { target?: string; ports?: string }): ScanFormValues {
  return { target: env.target || FALLBACK_TARGET, ports: env.ports || FALLBACK_PORTS, username: '', password: '', listen: DEFAULT_LISTEN_S, writeTest: false, sendCredentialsPlaintext: false, tryDefaults: false, ca: '' };
}

/** What a checked request starts: the current scan, the form's lock, and the three messages. */
export interface StartedScan {
  current: CurrentScan;
  running: RunningScan;
  /**
   * For the target expander: topic scan/<id>, payload {targets, ports}, sniff {listen, writeTest};
   * with a username also msg.credentials (the only place the password goes: the expander takes it
   * out of the message at once) and, when the box is ticked, msg.sendCredentialsPlaintext.
   */
  scan: ViewMessage;
  /** For the progress panel: topic 'start'. */
  started: ViewMessage;
}

/** Starts a scan of a checked request under `scanId` at `now` (ms). */
export function startScan(request: FormScanRequest, scanId: string, now: number): StartedScan {
  const { target, ports, username, password, listen, writeTest } = request;
  const withLogin = !!username;
  const current: CurrentScan = { scanId, target, ports, startedAt: new Date(now).toISOString(), withLogin, results: {}, total: null, complete: false };
  const scan: ViewMessage = { topic: `scan/${scanId}`, scanId, payload: { targets: target, ports }, sniff: { listen, writeTest } };
  if (withLogin) scan.credentials = { username, password };
  // The opt-in travels with msg.credentials into the target expander, which takes both out.
  if (withLogin && request.sendCredentialsPlaintext) scan.sendCredentialsPlaintext = true;
  // The target expander carries it into the batches; the probe tries the default logins for this scan.
  if (request.tryDefaults) scan.tryDefaults = true;
  // A CA for this scan's TLS connections: the expander checks it and carries it to the TLS stages.
  if (request.ca) scan.tlsCa = request.ca;
  const started: ViewMessage = { topic: 'start', payload: { scanId, target, ports, listen, writeTest, withLogin } };
  return { current, running: { scanId, at: now }, scan, started };
}
