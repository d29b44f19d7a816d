// The topics of the sites protocol, and the parsing of the ones an agent's login is part of.
//
//   mqttsec/<site>/jobs                           coordinator -> agents of <site>, QoS 1
//   $share/mqttsec/mqttsec/<site>/jobs            what the agents of <site> subscribe to
//   mqttsec/grants/<login>                        coordinator -> one agent, QoS 1
//   mqttsec/results/<scanId>/<shard>/<login>      agent -> coordinator: claim, progress,
//                                                 results, done, refusal (QoS 1)
//   mqttsec/agents/<site>/<login>                 agent status, retained; last will "offline"
//   mqttsec/cancel/<scanId>                       coordinator -> every agent: the scan is over
//
// Why these and not the words taken letter by letter: a shared subscription is
// `$share/{ShareName}/{filter}` (OASIS MQTT 5.0 section 4.8.2), so `$share/mqttsec/<site>/jobs`
// would be the share "mqttsec" of the topic `<site>/jobs`, outside our mqttsec/ namespace (and
// free to collide with a user's own `<site>/jobs`). The share keeps its name "mqttsec" and the
// jobs stay under mqttsec/. The last level of a result topic is the publishing agent's login,
// so the broker binds every result to a login: Mosquitto's ACL `pattern write
// mqttsec/results/+/+/%u` lets a login write there and nowhere else, and the coordinator reads
// the login from the topic, never from the payload. Everything one agent says about one shard
// goes to one topic, so MQTT's ordering per topic (OASIS MQTT 5.0 section 4.6) delivers the
// claim before the results and the results before "done".
import { checkLogin, checkScanId, checkSiteName, MAX_SHARDS, SitesMessageError } from './messages';

/** The shared subscription's name (OASIS MQTT 5.0 section 4.8.2 ShareName). */
export const SHARE_NAME = 'mqttsec';

/** Where the coordinator publishes the jobs of `site`. */
export function jobsTopic(site: string): string {
  return `mqttsec/${checkSiteName(site)}/jobs`;
}

/** What the agents of `site` subscribe to: one shared subscription, so each job goes to one
 *  of them (the broker chooses; Mosquitto 2.0 takes its members in turn). */
export function jobsSubscription(site: string): string {
  return `$share/${SHARE_NAME}/${jobsTopic(site)}`;
}

/** Where the coordinator answers one agent's claims. */
export function grantsTopic(login: string): string {
  return `mqttsec/grants/${checkLogin(login)}`;
}

/** Where an agent publishes everything about one shard of one scan. */
export function reportTopic(scanId: string, shard: number, login: string): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= MAX_SHARDS) throw new SitesMessageError('shard', `must be a whole number from 0 to ${MAX_SHARDS - 1}`);
  return `mqttsec/results/${checkScanId(scanId)}/${shard}/${checkLogin(login)}`;
}

/** What the coordinator subscribes to for one scan's reports. */
export function reportSubscription(scanId: string): string {
  return `mqttsec/results/${checkScanId(scanId)}/+/+`;
}

/** An agent's status topic (retained; its last will says offline). */
export function statusTopic(site: string, login: string): string {
  return `mqttsec/agents/${checkSiteName(site)}/${checkLogin(login)}`;
}

/** Where the coordinator says that a scan is over (messages.ts CancelMessage). */
export function cancelTopic(scanId: string): string {
  return `mqttsec/cancel/${checkScanId(scanId)}`;
}

/** What every agent subscribes to for the scans that are over. */
export const CANCEL_SUBSCRIPTION = 'mqttsec/cancel/+';

/** The scan id of a cancel topic, or null for any other topic. */
export function parseCancelTopic(topic: string): string | null {
  const m = /^mqttsec\/cancel\/([^/]+)$/.exec(topic);
  if (!m) return null;
  try {
    return checkScanId(m[1]);
  } catch {
    return null;
  }
}

/** What the coordinator subscribes to for every agent's status. */
export const STATUS_SUBSCRIPTION = 'mqttsec/agents/+/+';

/** The scan, shard and login of a report topic, or null for any other topic. */
export function parseReportTopic(topic: string): { scanId: string; shard: number; login: string } | null {
  const m = /^mqttsec\/results\/([^/]+)\/(\d{1,4})\/([^/]+)$/.exec(topic);
  if (!m) return null;
  try {
    const shard = Number(m[2]);
    if (shard >= MAX_SHARDS || String(shard) !== m[2]) return null;
    return { scanId: checkScanId(m[1]), shard, login: checkLogin(m[3]) };
  } catch {
    return null;
  }
}

/** The site and login of a status topic, or null for any other topic. */
export function parseStatusTopic(topic: string): { site: string; login: string } | null {
  const m = /^mqttsec\/agents\/([^/]+)\/([^/]+)$/.exec(topic);
  if (!m) return null;
  try {
    return { site: checkSiteName(m[1]), login: checkLogin(m[2]) };
  } catch {
    return null;
  }
}
