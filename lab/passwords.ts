// mosquitto 2.0 password files, written without mosquitto_passwd so the lab and the
// tests work on machines that only have Node. Format (mosquitto 2.0, "$7$"):
//   user:$7$<iterations>$<base64 12-byte salt>$<base64 PBKDF2-HMAC-SHA512, 64 bytes>
// The salt is hashed as raw bytes (the base64 decoded), exactly like mosquitto_passwd.
import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';

const ITERATIONS = 101; // mosquitto_passwd's default in 2.0
const SALT_BYTES = 12;
const HASH_BYTES = 64;

export function mosquittoPasswordLine(user: string, password: string): string {
  if (!user || /[:\r\n]/.test(user)) throw new Error(`invalid mosquitto username: ${JSON.stringify(user)}`);
  if (/[\r\n]/.test(password)) throw new Error('a mosquitto password cannot contain a line break');
  const salt = randomBytes(SALT_BYTES);
  const hash = pbkdf2Sync(password, salt, ITERATIONS, HASH_BYTES, 'sha512');
  return `${user}:$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Writes a password file (mode 0600) with one line per user. */
export function writePasswordFile(path: string, users: Record<string, string>): void {
  const lines = Object.entries(users).map(([user, password]) => mosquittoPasswordLine(user, password));
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 24 alphanumeric characters (~143 bits): no quoting trouble in shells, URLs or YAML,
 *  and never a leading '-' that a CLI would take for an option. */
export function randomPassword(length = 24): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}
