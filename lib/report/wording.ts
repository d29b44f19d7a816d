// Wording shared by the report formats, so the PDF, CSV and node status say the same thing.
import { certificateIsIdentity, type ClassifiedResult } from '../risk';
import type { AuthAttempt } from '../types';

/** "2026-11-27 10:00:05 UTC": the same in every time zone the report is opened in. */
export function formatTime(t: string | Date | null | undefined): string {
  if (!t) return '-';
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** What connecting got, in words: "connected anonymously", "refused: Not authorized", "closed". */
export function outcomeText(r: ClassifiedResult): string {
  if (r.reachability !== 'open') return r.errno ? `${r.reachability} (${r.errno})` : r.reachability;
  switch (r.classification) {
    case 'open_or_auth_ok':
      return certificateIsIdentity(r) ? 'connected with the client certificate'
        : r.auth.anonymous.outcome === 'accepted' ? 'connected anonymously'
        : r.auth.wrongCredentials.outcome === 'accepted' ? 'connected with any login'
        : r.auth.givenCredentials.outcome === 'accepted' ? 'connected with the given login'
        : r.auth.defaultCredentials?.outcome === 'accepted' ? 'connected with a well-known default login'
        : 'connected';
    case 'not_authorized':
      if (r.auth.anonymous.outcome === 'closed_without_connack') return 'refused: hung up on every CONNECT, no CONNACK';
      return `refused: ${r.auth.anonymous.reason ?? 'not authorized'}`;
    case 'tls_or_ssl_error':
      return 'TLS handshake failed';
    case 'not_mqtt':
      return 'not MQTT';
    default:
      return 'no answer';
  }
}

export function authText(a: AuthAttempt): string {
  // A login the scanner withheld says why (lib/credentials).
  if (a.outcome === 'not_tested') return a.detail ? a.detail.replace(/^login not sent: /, 'not sent: ') : 'not tested';
  if (a.outcome === 'closed_without_connack') return 'hung up without a CONNACK';
  const code = a.code === undefined ? '' : ` (CONNACK ${a.code}${a.reason ? ` ${a.reason}` : ''})`;
  // Without a CONNACK: what happened (a TLS session ended for want of a client certificate...).
  const detail = a.code === undefined && a.detail && a.outcome === 'error' ? `: ${a.detail}` : '';
  return `${a.outcome}${code}${detail}${a.clientCertificate ? ', with the client certificate' : ''}`;
}

export function mqttVersions(r: ClassifiedResult): string {
  const v = Object.entries(r.mqtt?.versions ?? {}).filter(([, s]) => s === 'supported').map(([k]) => k);
  return v.length ? v.join(', ') : '-';
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A line of a fix that is configuration or a command (shown in a monospace font), not prose. */
export const CONFIG_LINE = /^(#|allow_anonymous|password_file|listener|protocol|cafile|certfile|keyfile|tls_version|acl_file|ciphers|sys_interval|require_certificate|use_identity_as_username|crlfile|per_listener_settings|user|topic|pattern|mosquitto_passwd|mosquitto_pub|openssl|systemctl) /;
