// Lab controls (issue 18): `npm start`'s lab brokers changed while they run, so that a class can
// fix what the scanner found, rescan and see it resolved without installing Mosquitto. The
// dashboard's Lab controls panel (lib/dashboard/lab-controls.ts) reaches this through Node-RED's
// global context (LAB_CONTROLS_KEY); lib/ never imports the lab.
//
// The controls, from what the scanner finds on each lab broker as shipped:
//   insecure broker  Require a login  ANONYMOUS_ACCESS, WRONG_CREDENTIALS_ACCEPTED
//                    Topic ACL        RETAINED_DATA_EXPOSED, SYS_TOPICS_EXPOSED (what anonymous clients read)
//   secure broker    Certificate      trusted (as shipped) / expired / self-signed / wrong host:
//                                     TLS_EXPIRED, TLS_SELF_SIGNED, TLS_HOSTNAME_MISMATCH appear and resolve
//                    Topic ACL        SYS_TOPICS_EXPOSED (what the student's login reads)
// Every change closes the connections to that broker, so that every client (the simulated ESP32
// too) meets the new setting when it reconnects; a change to the value in force does nothing.
// The settings (no secrets) are kept in <userDir>/lab-controls.json, so a restart brings the lab
// back as the class left it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AedesBroker, BrokerPolicy } from './aedes-broker';
import { aclFileLines, labAcl, topicAcl } from './lab-acl';
import { WRONG_HOST, type LabCertSet } from './certs';
import type { LabUser } from './lab-secrets';
import type { SimulatorLogin } from './simulated-esp32';
import type { LabBrokerState, LabControl, LabControlChange, LabControlOutcome, LabControls, LabControlsState } from '../lib/dashboard';

/** The secure broker's certificates: the lab CA's (as shipped) and the ones that break it. */
export const CERTIFICATE_CHOICES = ['trusted', 'expired', 'self-signed', 'wrong-host'] as const;
export type CertificateChoice = (typeof CERTIFICATE_CHOICES)[number];

/** What Lab controls can change, as it is now. */
export interface LabSettings {
  insecure: { requireLogin: boolean; acl: boolean };
  secure: { certificate: CertificateChoice; acl: boolean };
}

/** The lab as shipped: the insecure broker open, the secure one with the lab CA's certificate and no ACL. */
export const SHIPPED_SETTINGS: LabSettings = {
  insecure: { requireLogin: false, acl: false },
  secure: { certificate: 'trusted', acl: false },
};

export interface LabControlsOptions {
  insecure: AedesBroker;
  secure: AedesBroker;
  /** Each broker's URLs as the banner prints them (mqtt://..., ws://.../mqtt). */
  addresses: { insecure: string[]; secure: string[] };
  /** The lab's logins: the insecure broker checks them when it requires a login. Never shown. */
  users: Record<LabUser, string>;
  certs: LabCertSet;
  /** Told the login the simulated ESP32 must use on the insecure broker (null: anonymous) before that broker's connections are closed. */
  esp32InsecureLogin?: (login: SimulatorLogin | null) => void;
  /** Where the settings are kept across restarts (JSON, no secrets); omitted: not kept. */
  file?: string;
}

/** The lab's controls, plus what the launcher needs around them. */
export interface LabControlsHandle extends LabControls {
  settings(): LabSettings;
  /** The ESP32's login for the insecure broker under the settings in force (null: anonymous). */
  esp32InsecureLogin(): SimulatorLogin | null;
  /** One line for the banner: 'as shipped', or what differs from it. */
  summary(): string;
  /** Why the settings file was not used, when it was there but unreadable (the lab then starts as shipped). */
  fileProblem: string | null;
}

/** Error of apply(): the message names the bad part. */
export class LabControlError extends Error {}

const NAMES = { insecure: 'Insecure lab broker', secure: 'Secure lab broker' } as const;

/** Mosquitto's file names in the conf lines: the usual places, not the lab's own files. */
const CERT_FILES: Record<CertificateChoice, string> = {
  trusted: 'server',
  expired: 'server-expired',
  'self-signed': 'server-self-signed',
  'wrong-host': 'server-wrong-host',
};

const CERT_LABELS: Record<CertificateChoice, string> = {
  trusted: 'Lab CA, valid (as shipped)',
  expired: 'Lab CA, expired',
  'self-signed': 'Self-signed',
  'wrong-host': `Lab CA, for ${WRONG_HOST} only`,
};

const CERT_EFFECTS: Record<CertificateChoice, string> = {
  trusted: 'Signed by the lab CA for localhost, 127.0.0.1 and ::1, valid: clients that trust the lab CA (the flows, the ESP32) verify it.',
  expired: 'Signed by the lab CA, expired 30 days ago: the ESP32 refuses it; the scanner keeps your login from it.',
  'self-signed': 'Signed by its own key: nobody can verify it. The ESP32 refuses it; the scanner keeps your login from it.',
  'wrong-host': `Signed by the lab CA for ${WRONG_HOST} only: whoever connects to 127.0.0.1 refuses it, the ESP32 too; the scanner keeps your login from it.`,
};

function isSettings(v: unknown): v is LabSettings {
  const s = v as LabSettings | null;
  return !!s && typeof s === 'object'
    && !!s.insecure && typeof s.insecure.requireLogin === 'boolean' && typeof s.insecure.acl === 'boolean'
    && !!s.secure && (CERTIFICATE_CHOICES as readonly string[]).includes(s.secure.certificate) && typeof s.secure.acl === 'boolean';
}

/**
 * Builds the lab's controls over its two running brokers, applies the settings kept in `file`
 * (when there are any) to them, and returns the handle. Call it before the simulated ESP32
 * starts, and start the ESP32 with esp32InsecureLogin().
 */
export function createLabControls(opts: LabControlsOptions): LabControlsHandle {
  const users = opts.users as Record<string, string>;
  const checkLogin = (username: string, password: string) => Object.prototype.hasOwnProperty.call(users, username) && users[username] === password;
  // Read once: a swap must not fail on a file that went missing after the start.
  const pairs = {
    trusted: { cert: readFileSync(opts.certs.cert), key: readFileSync(opts.certs.key) },
    ...Object.fromEntries((['expired', 'self-signed', 'wrong-host'] as const).map((v) => [v, { cert: readFileSync(opts.certs.variants[v].cert), key: readFileSync(opts.certs.variants[v].key) }])),
  } as Record<CertificateChoice, { cert: Buffer; key: Buffer }>;
  const securePolicy: BrokerPolicy = opts.secure.policy();
  const settings: LabSettings = structuredClone(SHIPPED_SETTINGS);
  let fileProblem: string | null = null;

  const esp32Login = (s: LabSettings): SimulatorLogin | null => (s.insecure.requireLogin || s.insecure.acl ? { username: 'esp32', password: opts.users.esp32 } : null);

  /** Puts the brokers in line with `s` (only what differs from `now`); returns the connections closed per broker. */
  function enforce(s: LabSettings, now: LabSettings): { insecure: number; secure: number } {
    const closed = { insecure: 0, secure: 0 };
    if (now.insecure.requireLogin !== s.insecure.requireLogin || now.insecure.acl !== s.insecure.acl) {
      opts.esp32InsecureLogin?.(esp32Login(s));
      opts.insecure.setPolicy({
        allowAnonymous: !s.insecure.requireLogin,
        authenticate: s.insecure.requireLogin ? checkLogin : undefined,
        acl: s.insecure.acl ? topicAcl(labAcl('insecure')) : null,
      });
      closed.insecure = opts.insecure.closeConnections();
    }
    if (now.secure.certificate !== s.secure.certificate || now.secure.acl !== s.secure.acl) {
      opts.secure.setCertificate(pairs[s.secure.certificate]);
      opts.secure.setPolicy({ ...securePolicy, acl: s.secure.acl ? topicAcl(labAcl('secure')) : null });
      closed.secure = opts.secure.closeConnections();
    }
    return closed;
  }

  if (opts.file && existsSync(opts.file)) {
    try {
      const saved: unknown = JSON.parse(readFileSync(opts.file, 'utf8'));
      if (!isSettings(saved)) throw new Error('not the settings of Lab controls');
      enforce(saved, settings);
      Object.assign(settings, structuredClone({ insecure: saved.insecure, secure: saved.secure }));
    } catch (err) {
      fileProblem = `${opts.file}: ${(err as Error).message}; the lab starts as shipped`;
    }
  }

  /** Keeps the settings for the next start; '' when kept (or no file), else why not (the change itself holds). */
  const save = (): string => {
    if (!opts.file) return '';
    try {
      writeFileSync(opts.file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
      return '';
    } catch (err) {
      return ` (Not kept for the next start: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.)`;
    }
  };

  function state(): LabControlsState {
    const s = settings;
    const aclControl = (broker: 'insecure' | 'secure'): LabControl => ({
      id: 'acl',
      label: 'Topic ACL (acl_file)',
      kind: 'switch',
      value: s[broker].acl,
      shipped: SHIPPED_SETTINGS[broker].acl,
      effect: s[broker].acl
        ? `Anything not granted is denied: anonymous clients get nothing, esp32 writes lab/${broker}/#, student reads it, nobody reads $SYS. '#' is granted but delivers only what the login may read.`
        : 'Every client that gets in reads and writes every topic, $SYS too.',
      mosquittoConf: s[broker].acl
        ? ['acl_file /etc/mosquitto/acl', '# in /etc/mosquitto/acl:', ...aclFileLines(labAcl(broker))]
        : ['# no acl_file: every client reads and writes every topic, $SYS included'],
    });
    const insecure: LabBrokerState = {
      id: 'insecure',
      name: NAMES.insecure,
      addresses: opts.addresses.insecure,
      controls: [
        {
          id: 'requireLogin',
          label: 'Require a login',
          kind: 'switch',
          value: s.insecure.requireLogin,
          shipped: SHIPPED_SETTINGS.insecure.requireLogin,
          effect: s.insecure.requireLogin
            ? 'Anonymous clients are refused (CONNACK 5), so is a wrong password (CONNACK 4); student and esp32 get in. Passwords still cross the network in clear text.'
            : 'Anyone gets in: anonymous, or any username with any password.',
          mosquittoConf: s.insecure.requireLogin
            ? ['allow_anonymous false', 'password_file /etc/mosquitto/passwd', '# mosquitto_passwd /etc/mosquitto/passwd student']
            : ['allow_anonymous true', '# no password_file: any login is accepted'],
        },
        aclControl('insecure'),
      ],
    };
    const secure: LabBrokerState = {
      id: 'secure',
      name: NAMES.secure,
      addresses: opts.addresses.secure,
      controls: [
        {
          id: 'certificate',
          label: 'Certificate',
          kind: 'choice',
          value: s.secure.certificate,
          shipped: SHIPPED_SETTINGS.secure.certificate,
          options: CERTIFICATE_CHOICES.map((c) => ({ value: c, label: CERT_LABELS[c] })),
          effect: CERT_EFFECTS[s.secure.certificate],
          mosquittoConf: [
            '# in both TLS listeners (mqtts and wss):',
            'cafile /etc/mosquitto/certs/ca.crt',
            `certfile /etc/mosquitto/certs/${CERT_FILES[s.secure.certificate]}.crt`,
            `keyfile /etc/mosquitto/certs/${CERT_FILES[s.secure.certificate]}.key`,
          ],
        },
        aclControl('secure'),
      ],
    };
    return { brokers: [insecure, secure] };
  }

  function apply(change: LabControlChange): LabControlOutcome {
    const c = (change ?? {}) as Partial<LabControlChange>;
    if (c.broker !== 'insecure' && c.broker !== 'secure') throw new LabControlError(`broker "${String(c.broker).slice(0, 40)}": not a lab broker (insecure, secure)`);
    const next: LabSettings = structuredClone(settings);
    let label: string;
    let shown: string;
    if (c.control === 'acl') {
      if (typeof c.value !== 'boolean') throw new LabControlError('acl: must be true or false');
      next[c.broker].acl = c.value;
      [label, shown] = ['Topic ACL', c.value ? 'on' : 'off'];
    } else if (c.broker === 'insecure' && c.control === 'requireLogin') {
      if (typeof c.value !== 'boolean') throw new LabControlError('requireLogin: must be true or false');
      next.insecure.requireLogin = c.value;
      [label, shown] = ['Require a login', c.value ? 'on' : 'off'];
    } else if (c.broker === 'secure' && c.control === 'certificate') {
      if (!(CERTIFICATE_CHOICES as readonly unknown[]).includes(c.value)) throw new LabControlError(`certificate: must be one of ${CERTIFICATE_CHOICES.join(', ')}`);
      next.secure.certificate = c.value as CertificateChoice;
      [label, shown] = ['Certificate', CERT_LABELS[next.secure.certificate]];
    } else {
      throw new LabControlError(`control "${String(c.control).slice(0, 40)}": not a control of the ${c.broker} broker (${c.broker === 'insecure' ? 'requireLogin, acl' : 'certificate, acl'})`);
    }
    const closed = enforce(next, settings)[c.broker];
    const same = JSON.stringify(next) === JSON.stringify(settings);
    Object.assign(settings, next);
    const unsaved = same ? '' : save();
    return { state: state(), closed, text: `${NAMES[c.broker]}: ${label} ${same ? 'is already' : 'is now'} ${shown}.${unsaved}` };
  }

  function summary(): string {
    const s = settings;
    const parts: string[] = [];
    if (s.insecure.requireLogin) parts.push('insecure broker requires a login');
    if (s.insecure.acl) parts.push('insecure broker has the ACL');
    if (s.secure.certificate !== 'trusted') parts.push(`secure broker serves the ${s.secure.certificate} certificate`);
    if (s.secure.acl) parts.push('secure broker has the ACL');
    return parts.length ? parts.join('; ') : 'as shipped';
  }

  return {
    state,
    apply,
    settings: () => structuredClone(settings),
    esp32InsecureLogin: () => esp32Login(settings),
    summary,
    fileProblem,
  };
}
