// The listener's subscriptions: every SUBACK code is read, and a refused wildcard filter gets one
// fallback that reaches the same topics through a filter an ACL may not name. Brokers refuse '#'
// itself more often than the data under it: EMQX's default ACL denies exactly '#' and '$SYS/#'
// (an {eq, "#"} rule) and lets '+/#' through, so a listener that stops at the refusal reports an
// empty broker that in fact gives everything away.
import { v5ReasonName } from '../mqtt';
import type { SubscriptionOutcome } from '../types';
import type { Session } from './session';

/** MQTT 5.0 §3.9.3: the server does not support wildcard subscriptions at all; a fallback
 *  (itself a wildcard filter) would be refused for the same reason. */
const WILDCARDS_NOT_SUPPORTED = 0xa2;

/**
 * The filter we subscribe when the broker refuses `filter`, or null when it has none: a filter
 * whose last level is '#'. '#' becomes '+/#', which matches exactly the same topics ('+' matches
 * any first level, the empty one included, and '#' also matches its parent level, so '+/#' matches
 * 'a' as well as 'a/b/c'; neither matches a topic that starts with '$'): OASIS MQTT 3.1.1 §4.7.1.2,
 * §4.7.1.3 and §4.7.2, MQTT 5.0 the same sections. 'P/#' becomes 'P/+/#': every topic below P,
 * only P itself is not matched ('$SYS/#' becomes '$SYS/+/#').
 */
export function fallbackFilter(filter: string): string | null {
  if (filter === '#') return '+/#';
  if (filter.endsWith('/#')) return `${filter.slice(0, -2)}/+/#`;
  return null;
}

/**
 * Subscribes every filter at `qos` (all at once) and reads each SUBACK code; then, for each
 * filter refused with a failure code (0x80 and up) that has a fallback (fallbackFilter) not in
 * `filters` already, subscribes the fallback once (a refused fallback gets none of its own; none
 * either after 0xA2 Wildcard Subscriptions not supported). Returns one outcome per SUBSCRIBE, in
 * the order of `filters`, each fallback right after the filter it replaces (`replaces` names it).
 * Waits at most 2 x timeoutMs; never throws (a SUBSCRIBE that got no SUBACK has code null).
 */
export async function subscribeWithFallbacks(
  session: Pick<Session, 'subscribe'>,
  filters: readonly string[],
  qos: 0 | 1 | 2,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SubscriptionOutcome[]> {
  const first = await Promise.all(filters.map((f) => session.subscribe(f, qos, timeoutMs, signal)));
  const asked = new Set(filters);
  const second = await Promise.all(first.map((s) => {
    const fallback = refused(s) && s.code !== WILDCARDS_NOT_SUPPORTED ? fallbackFilter(s.filter) : null;
    if (fallback === null || asked.has(fallback) || signal?.aborted) return null;
    asked.add(fallback);
    return session.subscribe(fallback, qos, timeoutMs, signal).then((r): SubscriptionOutcome => ({ ...r, replaces: s.filter }));
  }));
  return first.flatMap((s, i) => (second[i] ? [s, second[i]!] : [s]));
}

/**
 * What the SUBACKs say in one sentence when the broker refused a filter, else null: which filters
 * were refused with which code, which fallback was granted in their place, which fallback was
 * refused too. `v5`: the codes are MQTT 5 reason codes (named), else 3.1.1 return codes.
 */
export function subscriptionNote(outcomes: readonly SubscriptionOutcome[], v5: boolean): string | null {
  const parts: string[] = [];
  for (const s of outcomes) {
    if (s.replaces !== undefined || !refused(s)) continue;
    const fallback = outcomes.find((f) => f.replaces === s.filter);
    const head = `'${s.filter}' was refused (${subackCode(s.code!, v5)})`;
    if (!fallback) parts.push(head);
    else if (fallback.granted) parts.push(`${head}; '${fallback.filter}' was granted in its place (${s.filter === '#' ? 'the same topics' : `every topic below ${s.filter.slice(0, -2)}`})`);
    else parts.push(`${head}, and '${fallback.filter}' in its place too (${fallback.code === null ? 'no SUBACK' : subackCode(fallback.code, v5)})`);
  }
  return parts.length ? `The broker's SUBACKs: ${parts.join('; ')}.` : null;
}

/** Every SUBSCRIBE was answered with a failure code: nothing can arrive. */
export function everyFilterRefused(outcomes: readonly SubscriptionOutcome[]): boolean {
  return outcomes.length > 0 && outcomes.every(refused);
}

/** A SUBACK came, with a failure code. */
function refused(s: SubscriptionOutcome): boolean {
  return s.code !== null && s.code >= 0x80;
}

/** 'SUBACK 0x87 Not authorized' (MQTT 5.0 §3.9.3) or 'SUBACK 0x80 Failure' (3.1.1 §3.9.3). */
export function subackCode(code: number, v5: boolean): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  if (v5) return `SUBACK ${hex} ${v5ReasonName(code)}`;
  return `SUBACK ${hex}${code === 0x80 ? ' Failure' : ''}`;
}
