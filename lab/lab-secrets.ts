// The lab's certificates and passwords: generated on first start into the (git-ignored) user
// directory and reused afterwards, so a restart does not change what students typed in.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_CERT_VARIANTS, writeLabCertSet, type LabCertSet } from './certs';
import { randomPassword } from './passwords';

export const LAB_USERS = ['esp32', 'student'] as const;
export type LabUser = (typeof LAB_USERS)[number];

export interface LabSecrets {
  /** The lab CA, the secure broker's certificate and key, and the variants Lab controls swap in. */
  certs: LabCertSet;
  users: Record<LabUser, string>;
  /** True when this start generated the passwords (so the launcher prints the student's). */
  fresh: boolean;
  /**
   * True when this start replaced the certificates of a user directory from before Lab controls
   * (it had no variants, and they must be signed by the same lab CA, whose key is never kept): a
   * new lab CA, so devices that pin the old ca.crt need the new one. The passwords are kept.
   */
  certsRenewed: boolean;
}

/** The lab's secrets in <userDir>/lab-secrets (0700): read, or made when missing (see LabSecrets). */
export function labSecrets(userDir: string): LabSecrets {
  const dir = join(userDir, 'lab-secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const usersFile = join(dir, 'users.json');
  const certs: LabCertSet = {
    ca: join(dir, 'ca.crt'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    variants: Object.fromEntries(LAB_CERT_VARIANTS.map((v) => [v, { cert: join(dir, `server-${v}.crt`), key: join(dir, `server-${v}.key`) }])) as LabCertSet['variants'],
  };
  const certFiles = [certs.ca, certs.cert, certs.key, ...Object.values(certs.variants).flatMap((v) => [v.cert, v.key])];
  const haveUsers = existsSync(usersFile);
  if (haveUsers && certFiles.every((f) => existsSync(f))) {
    return { certs, users: JSON.parse(readFileSync(usersFile, 'utf8')), fresh: false, certsRenewed: false };
  }
  const hadCa = existsSync(certs.ca);
  const written = writeLabCertSet(dir, ['localhost', '127.0.0.1', '::1']);
  if (haveUsers) return { certs: written, users: JSON.parse(readFileSync(usersFile, 'utf8')), fresh: false, certsRenewed: hadCa };
  const users = Object.fromEntries(LAB_USERS.map((u) => [u, randomPassword(16)])) as Record<LabUser, string>;
  writeFileSync(usersFile, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return { certs: written, users, fresh: true, certsRenewed: false };
}
