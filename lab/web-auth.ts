// Passwords for the lab's web side when it is reachable from other machines (MQTTSEC_BIND not
// loopback): "teacher" for the flow editor (Node-RED's adminAuth) and "class" for the dashboard
// and its report downloads (checked by lab/request-guard.ts). Generated on first need, shown
// once, kept only as bcrypt hashes in <userDir>/lab-secrets/web-auth.json (mode 0600).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV, LabConfigError } from './lab-config';
import { randomPassword } from './passwords';
import { isLoopback } from './request-guard';

export const TEACHER_USER = 'teacher';
export const CLASS_USER = 'class';
const BCRYPT_COST = 10;

interface Bcrypt {
  hashSync(password: string, cost: number): string;
  compareSync(password: string, hash: string): boolean;
}

/** Node-RED's own bcrypt (bcryptjs, a dependency of node-red): the hashes adminAuth expects. */
function bcrypt(): Bcrypt {
  return require('bcryptjs') as Bcrypt;
}

export interface WebAuth {
  /** bcrypt hashes ("$2b$10$..."). */
  teacherHash: string;
  classHash: string;
  /** The plain passwords, only on the start that generated them (for the banner, once). */
  fresh: { teacher: string; class: string } | null;
  /** Where the hashes are kept. */
  file: string;
}

/** The file that keeps the hashes. */
export function webAuthFile(userDir: string): string {
  return join(userDir, 'lab-secrets', 'web-auth.json');
}

/**
 * The lab's web passwords: read from webAuthFile, or generated (24 alphanumeric characters each)
 * and saved as bcrypt hashes. Throws when the file cannot be read, parsed or written.
 */
export function labWebAuth(userDir: string): WebAuth {
  const file = webAuthFile(userDir);
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    const teacherHash = saved?.[TEACHER_USER]?.hash;
    const classHash = saved?.[CLASS_USER]?.hash;
    if (!isBcryptHash(teacherHash) || !isBcryptHash(classHash)) throw new Error(`${file} does not hold two bcrypt hashes; delete it to get new passwords`);
    return { teacherHash, classHash, fresh: null, file };
  }
  const fresh = { teacher: randomPassword(), class: randomPassword() };
  const b = bcrypt();
  const teacherHash = b.hashSync(fresh.teacher, BCRYPT_COST);
  const classHash = b.hashSync(fresh.class, BCRYPT_COST);
  mkdirSync(join(userDir, 'lab-secrets'), { recursive: true, mode: 0o700 });
  const saved = { [TEACHER_USER]: { hash: teacherHash }, [CLASS_USER]: { hash: classHash } };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { teacherHash, classHash, fresh, file };
}

function isBcryptHash(v: unknown): v is string {
  return typeof v === 'string' && /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(v);
}

/**
 * Whether the launcher may listen on `bind`, decided before it listens. Loopback: yes, without
 * web passwords. Anything else (0.0.0.0, ::, a LAN address, a host name): only with the teacher
 * and class passwords that `setUpAuth` returns; if that throws, the lab refuses to start
 * (LabConfigError naming MQTTSEC_BIND and the reason).
 */
export function exposureDecision(bind: string, setUpAuth: () => WebAuth): { exposed: false } | { exposed: true; auth: WebAuth } {
  if (isLoopback(bind)) return { exposed: false };
  let auth: WebAuth;
  try {
    auth = setUpAuth();
  } catch (err) {
    throw new LabConfigError(
      `${ENV.bind}=${bind} makes the flow editor (which runs code) reachable from other machines, and the launcher ` +
        `could not set up its passwords: ${(err as Error).message}. Refusing to start. Fix that, or leave ${ENV.bind} unset (127.0.0.1).`,
    );
  }
  return { exposed: true, auth };
}

/**
 * A checker for the class password: bcrypt is slow (~70 ms), so the last password that matched
 * is remembered (as Node-RED's own httpNodeAuth does) and compared in constant time.
 */
export function classPasswordChecker(classHash: string): (user: string, password: string) => boolean {
  const { timingSafeEqual, createHash } = require('node:crypto') as typeof import('node:crypto');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  let known: Buffer | null = null;
  return (user, password) => {
    if (user !== CLASS_USER || password.length > 1024) return false;
    const d = digest(password);
    if (known && timingSafeEqual(known, d)) return true;
    if (!bcrypt().compareSync(password, classHash)) return false;
    known = d;
    return true;
  };
}
