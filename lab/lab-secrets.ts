// The lab's certificates and passwords: generated on first start into the (git-ignored) user
// directory and reused afterwards, so a restart does not change what students typed in.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeLabCerts, type LabCertPaths } from './certs';
import { randomPassword } from './passwords';

export const LAB_USERS = ['esp32', 'student'] as const;
export type LabUser = (typeof LAB_USERS)[number];

export interface LabSecrets {
  certs: LabCertPaths;
  users: Record<LabUser, string>;
  /** True when this start generated them (so the launcher prints the passwords). */
  fresh: boolean;
}

export function labSecrets(userDir: string): LabSecrets {
  const dir = join(userDir, 'lab-secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const usersFile = join(dir, 'users.json');
  const certs = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (existsSync(usersFile) && existsSync(certs.ca) && existsSync(certs.cert) && existsSync(certs.key)) {
    return { certs, users: JSON.parse(readFileSync(usersFile, 'utf8')), fresh: false };
  }
  const written = writeLabCerts(dir, ['localhost', '127.0.0.1', '::1']);
  const users = Object.fromEntries(LAB_USERS.map((u) => [u, randomPassword(16)])) as Record<LabUser, string>;
  writeFileSync(usersFile, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return { certs: written, users, fresh: true };
}
