// Credentials that arrive in a message (dashboard form, HTTP API) are taken out of it at once and
// kept here, in memory only, under the scan id, so no message that leaves our nodes carries them.
import type { Credentials } from '../../lib/probe';

/** Long enough for a scan and its slowest downstream node (sniffer, reports); then forgotten. */
const TTL_MS = 30 * 60 * 1000;
const MAX_ENTRIES = 256;
const vault = new Map<string, { credentials: Credentials; expires: number }>();

export function depositCredentials(scanId: string, credentials: Credentials): void {
  prune();
  vault.set(scanId, { credentials, expires: Date.now() + TTL_MS });
}

export function credentialsFor(scanId: string | undefined): Credentials | null {
  if (!scanId) return null;
  const entry = vault.get(scanId);
  if (!entry || entry.expires < Date.now()) return null;
  return entry.credentials;
}

export function forgetCredentials(scanId: string): void {
  vault.delete(scanId);
}

/** Reads msg.credentials ({username|user, password|pass}) and removes it from the message. */
export function takeCredentials(msg: Record<string, unknown>): Credentials | null {
  const raw = msg.credentials ?? msg.creds;
  delete msg.credentials;
  delete msg.creds;
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const username = r.username ?? r.user;
  const password = r.password ?? r.pass;
  if (typeof username !== 'string' || username === '') return null;
  return { username, password: typeof password === 'string' && password !== '' ? password : undefined };
}

function prune(): void {
  const now = Date.now();
  for (const [id, e] of vault) if (e.expires < now) vault.delete(id);
  while (vault.size >= MAX_ENTRIES) vault.delete(vault.keys().next().value as string);
}
