// The lab brokers' topic ACL, written once as data: the same rules are enforced by the embedded
// aedes brokers (lab/aedes-broker.ts TopicAcl) and shown to the class as Mosquitto acl_file lines,
// so what the panel says and what the broker does cannot drift apart. The rules are those of
// brokers/secure/acl (the real Mosquitto's), for each lab broker's own topic tree.
//
// Semantics, as Mosquitto 2.0's acl_file: anything not granted is denied; a "user" block grants
// that user; "pattern" lines grant every client (%u its username, %c its client id; a pattern with
// %u never matches an anonymous client); anonymous clients get topic lines before the first "user"
// line (here: none, so anonymous clients get nothing).
import type { AclClient, TopicAcl } from './aedes-broker';
import { LAB_TOPIC_ROOT, type BrokerRole } from '../lib/sniff/lab-device';

/** One grant: `user` null is a pattern line (every client, %u and %c substituted). */
export interface AclRule {
  user: string | null;
  access: 'read' | 'write' | 'readwrite';
  /** An MQTT topic filter (+ and # wildcards; %u and %c in pattern lines). */
  topic: string;
}

/**
 * The lab's ACL for one broker, as brokers/secure/acl has it for the secure Mosquitto: the ESP32
 * (user esp32) writes its readings under lab/<broker>/ and reads its commands under lab/cmd/esp32/;
 * the student reads the readings; every user owns lab/users/<username>/. Nobody gets '#' or
 * $SYS: a '#' subscription is granted but delivers only what the user may read.
 */
export function labAcl(broker: BrokerRole): AclRule[] {
  return [
    { user: 'esp32', access: 'write', topic: `${LAB_TOPIC_ROOT}/${broker}/#` },
    { user: 'esp32', access: 'read', topic: `${LAB_TOPIC_ROOT}/cmd/esp32/#` },
    { user: 'student', access: 'read', topic: `${LAB_TOPIC_ROOT}/${broker}/#` },
    { user: null, access: 'readwrite', topic: `${LAB_TOPIC_ROOT}/users/%u/#` },
  ];
}

/** The rules as the lines of a Mosquitto acl_file ("user esp32", "topic write lab/secure/#", "pattern readwrite ..."). */
export function aclFileLines(rules: readonly AclRule[]): string[] {
  const lines: string[] = [];
  let user: string | null | undefined;
  for (const rule of rules) {
    if (rule.user === null) {
      lines.push(`pattern ${rule.access} ${rule.topic}`);
      continue;
    }
    if (rule.user !== user) lines.push(`user ${rule.user}`);
    user = rule.user;
    lines.push(`topic ${rule.access} ${rule.topic}`);
  }
  return lines;
}

/**
 * Whether `topic` (a PUBLISH topic name: no wildcards) matches `filter` (OASIS MQTT 3.1.1 §4.7):
 * '+' is one level, a final '#' this level and every level below (and the parent itself); a topic
 * starting with '$' is matched only by a filter that names its first level.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A pattern line's filter for one client, or null when the substitution cannot be used (Mosquitto
 *  likewise ignores a pattern for a username or client id holding '+', '#' or '/'). */
function substitute(topic: string, client: AclClient): string | null {
  let bad = false;
  const out = topic.replace(/%([uc])/g, (_m, k: string) => {
    const v = k === 'u' ? client.username : client.clientId;
    if (v === undefined || v === '' || /[+#/]/.test(v)) bad = true;
    return v ?? '';
  });
  return bad ? null : out;
}

/** The TopicAcl that enforces `rules` (aedes-broker asks it at each PUBLISH and each delivery). */
export function topicAcl(rules: readonly AclRule[]): TopicAcl {
  const allows = (client: AclClient, topic: string, want: 'read' | 'write'): boolean => {
    // An anonymous client matches no user line, nor a pattern with %u (it has no username).
    return rules.some((rule) => {
      if (rule.access !== want && rule.access !== 'readwrite') return false;
      if (rule.user !== null) return rule.user === client.username && topicMatches(rule.topic, topic);
      const filter = substitute(rule.topic, client);
      return filter !== null && topicMatches(filter, topic);
    });
  };
  return {
    mayRead: (client, topic) => allows(client, topic, 'read'),
    mayWrite: (client, topic) => allows(client, topic, 'write'),
  };
}
