// CLI: writes the secret files the secure broker needs (CA, server certificate and key,
// password file) into a git-ignored folder. The random passwords are printed once to
// stdout and stored nowhere else in clear text.
//   node dist/lab/generate-broker-files.js --out brokers/secure/generated \
//        --host 192.0.2.10 --user esp32 --user scanner
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLabCerts } from './certs';
import { randomPassword, writePasswordFile } from './passwords';

const USAGE = `usage: generate-broker-files --out DIR [--host NAME_OR_IP ...] [--user NAME ...]
  --out   folder to write ca.crt, server.crt, server.key, passwords (created if missing)
  --host  name or IP clients use to reach the broker (repeatable; localhost and 127.0.0.1 are always added)
  --user  broker account to create with a random password (repeatable; default esp32, scanner, student)`;

export interface GeneratedBrokerFiles {
  ca: string;
  cert: string;
  key: string;
  passwords: string;
  users: Record<string, string>;
}

export function generateBrokerFiles(out: string, hosts: string[], userNames: string[]): GeneratedBrokerFiles {
  const allHosts = [...new Set([...hosts, 'localhost', '127.0.0.1'])];
  const certs = writeLabCerts(out, allHosts);
  // persistence_location in the shipped config points here; mosquitto does not create it.
  mkdirSync(join(out, 'data'), { recursive: true });
  const users = Object.fromEntries(userNames.map((u) => [u, randomPassword()]));
  const passwords = join(out, 'passwords');
  writePasswordFile(passwords, users);
  return { ...certs, passwords, users };
}

export function main(argv: string[]): number {
  let values: { out?: string; host?: string[]; user?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        host: { type: 'string', multiple: true },
        user: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.out) {
    console.error(USAGE);
    return 2;
  }
  const userNames = values.user?.length ? values.user : ['esp32', 'scanner', 'student'];
  const files = generateBrokerFiles(values.out, values.host ?? [], userNames);
  console.log(`wrote ${files.ca}, ${files.cert}, ${files.key}, ${files.passwords}`);
  console.log('passwords (shown once, not stored in clear text anywhere):');
  for (const [user, password] of Object.entries(files.users)) console.log(`  ${user}:${password}`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
