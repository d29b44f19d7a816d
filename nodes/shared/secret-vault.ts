// Logins that arrive in a message (dashboard form, HTTP API) are taken out of it before any node
// code runs (shared/handler.ts) and kept here, in memory only, under the scan id, so no message
// that leaves our nodes (nor one a Catch node receives) carries them. The scan's credential
// safety choice (lib/credentials: sendCredentialsPlaintext) travels the same way, so the probe and
// the sniffer of one scan follow the same rule.
import type { Credentials, CredentialSafety } from '../../lib/credentials';

/** Long enough for a scan and its slowest downstream node (sniffer, reports); then forgotten. */
const TTL_MS = 30 * 60 * 1000;
const MAX_ENTRIES = 256;

/** What a message asked of a scan's login: the credentials and the user's opt-in. */
export interface MessageLogin {
  credentials: Credentials | null;
  /** msg.sendCredentialsPlaintext === true: the user opted in (dashboard checkbox, API field). */
  sendCredentialsPlaintext: boolean;
}

interface Entry extends MessageLogin {
  expires: number;
}

const vault = new Map<string, Entry>();

/** Keeps what a message asked for a scan; an opt-in once given stays for the scan. */
export function depositLogin(scanId: string, login: MessageLogin): void {
  if (!login.credentials && !login.sendCredentialsPlaintext) return;
  prune();
  const before = vault.get(scanId);
  vault.set(scanId, {
    credentials: login.credentials ?? before?.credentials ?? null,
    sendCredentialsPlaintext: login.sendCredentialsPlaintext || !!before?.sendCredentialsPlaintext,
    expires: Date.now() + TTL_MS,
  });
}

export function credentialsFor(scanId: string | undefined): Credentials | null {
  return entry(scanId)?.credentials ?? null;
}

/** The scan's opt-in as lib/credentials wants it ({} when none was given). */
export function safetyFor(scanId: string | undefined): CredentialSafety {
  return entry(scanId)?.sendCredentialsPlaintext ? { sendCredentialsPlaintext: true } : {};
}

export function forgetCredentials(scanId: string): void {
  vault.delete(scanId);
}

/**
 * Reads msg.credentials / msg.creds ({username|user, password|pass}) and
 * msg.sendCredentialsPlaintext, and removes all three from the message. Never throws.
 */
export function takeLogin(msg: Record<string, unknown>): MessageLogin {
  const raw = msg.credentials ?? msg.creds;
  const optIn = msg.sendCredentialsPlaintext === true;
  delete msg.credentials;
  delete msg.creds;
  delete msg.sendCredentialsPlaintext;
  return { credentials: asCredentials(raw), sendCredentialsPlaintext: optIn };
}

function asCredentials(raw: unknown): Credentials | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const username = r.username ?? r.user;
  const password = r.password ?? r.pass;
  if (typeof username !== 'string' || username === '') return null;
  return { username, password: typeof password === 'string' && password !== '' ? password : undefined };
}

function entry(scanId: string | undefined): Entry | null {
  if (!scanId) return null;
  const e = vault.get(scanId);
  if (!e || e.expires < Date.now()) return null;
  return e;
}

function prune(): void {
  const now = Date.now();
  for (const [id, e] of vault) if (e.expires < now) vault.delete(id);
  while (vault.size >= MAX_ENTRIES) vault.delete(vault.keys().next().value as string);
}
