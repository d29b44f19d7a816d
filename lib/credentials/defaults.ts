// Well-known default logins of MQTT brokers and the products around them. With --try-defaults the
// probe tries these (a handful, in one parallel round) when nothing weaker let it in.
import type { Credentials } from '../types';

export const DEFAULT_PAIRS: readonly Credentials[] = [
  { username: 'admin', password: 'admin' },
  { username: 'admin', password: 'password' },
  { username: 'admin', password: 'public' },
  { username: 'guest', password: 'guest' },
  { username: 'mosquitto', password: 'mosquitto' },
  { username: 'mqtt', password: 'mqtt' },
  { username: 'user', password: 'user' },
  { username: 'test', password: 'test' },
];

export function isDefaultPair(c: Credentials | null | undefined): boolean {
  return !!c && DEFAULT_PAIRS.some((d) => d.username === c.username && d.password === (c.password ?? ''));
}
