// The safe write test: exactly one non-retained QoS 1 message to a topic of our own. MQTT 5 says
// in the PUBACK whether it was accepted; a 3.1.1 broker acknowledges even what it drops, so
// there only our own subscription receiving it back proves it.
import { randomBytes } from 'node:crypto';
import { v5ReasonName } from '../mqtt';
import type { MqttVersion } from '../types';
import type { Session } from './session';
import { settle } from '../common';

export interface WriteTestResult {
  topic: string;
  accepted: boolean;
  evidence: string;
}

export const CANARY_PREFIX = 'mqttsec/canary/';
const PAYLOAD = 'mqttsec write test: a scanner checked whether this broker accepts writes; safe to ignore';

type Published = { kind: 'ok' } | { kind: 'rejected'; code: number } | { kind: 'error'; message: string } | { kind: 'timeout' };

export class Canary {
  readonly topic = `${CANARY_PREFIX}${randomBytes(8).toString('hex')}`;
  private echoed = false;
  private onEcho: (() => void) | null = null;

  /** Our own message coming back: consumed here, never listed as a data topic. */
  take(topic: string): boolean {
    if (topic !== this.topic) return false;
    this.echoed = true;
    this.onEcho?.();
    return true;
  }

  async run(session: Session, version: MqttVersion, waitMs: number, signal?: AbortSignal): Promise<WriteTestResult> {
    const sub = await session.subscribe(this.topic, 1, waitMs, signal);
    const started = Date.now();
    const acked = await session.publish(this.topic, Buffer.from(PAYLOAD), waitMs, signal);
    // 3.1.1 PUBACKs carry no code; MQTT 5 codes below 0x80 (0x10: no matching subscribers) are successes.
    const published: Published = 'error' in acked
      ? /^no PUBACK within/.test(acked.error) ? { kind: 'timeout' } : { kind: 'error', message: acked.error }
      : acked.code >= 0x80 ? { kind: 'rejected', code: acked.code } : { kind: 'ok' };
    const pubackCode = 'code' in acked ? acked.code : null;
    const echoed = sub.granted && published.kind === 'ok' ? await this.waitEcho(waitMs - (Date.now() - started), signal) : false;
    return { topic: this.topic, ...verdict(version, published, pubackCode, sub.granted, echoed, waitMs) };
  }

  private waitEcho(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.echoed) return Promise.resolve(true);
    return settle(Math.max(ms, 250), signal, false, (done) => {
      this.onEcho = () => done(true);
      return () => (this.onEcho = null);
    });
  }
}

function verdict(version: MqttVersion, p: Published, pubackCode: number | null, subscribed: boolean, echoed: boolean, waitMs: number) {
  if (p.kind === 'timeout') return { accepted: false, evidence: `no PUBACK within ${waitMs} ms` };
  if (p.kind === 'error') return { accepted: false, evidence: `publish failed: ${p.message}` };
  if (p.kind === 'rejected') return { accepted: false, evidence: `PUBACK reason ${hex(p.code)} (${v5ReasonName(p.code)})` };
  const echo = echoed
    ? 'and our own subscription received it back'
    : subscribed
      ? `but it never reached our own subscription to it within ${waitMs} ms: the broker dropped it`
      : 'and our subscription to it was refused, so delivery could not be checked';
  if (version === '5.0') {
    const code = pubackCode ?? 0;
    // A broker that acknowledges and then drops (seen on some ACL setups) did not accept it.
    return { accepted: echoed || !subscribed, evidence: `PUBACK reason ${hex(code)} (${v5ReasonName(code)}) ${echo}` };
  }
  return { accepted: echoed, evidence: `PUBACK received (MQTT 3.1.1 acknowledges even dropped messages) ${echo}` };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
