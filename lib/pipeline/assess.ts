// Sweep a set of targets and run the MQTT probe on every open port as soon as it is found.
// How much runs at once: set-ups (a broker's first CONNECT and its listener) as many as the CPU
// allows (SetupWindow) up to probeConcurrency; brokers in the later stages (listening, TLS
// inspection) as many as the process can hold (capacity.ts: descriptors and memory); every
// socket takes a descriptor of the process's pool first (lib/common descriptors.ts). Work that
// can wait (the other logins, TLS inspection) waits for the set-ups of the ports already found,
// so that every listen window opens early and that work runs inside them.
import { OPTIONS } from '../options';
import { sweep, DEFAULT_SWEEP_TIMEOUT_MS, effectiveConcurrency } from '../sweep';
import { sweepSharded } from '../sweep';
import { probeBroker, type Established, type ProbeOptions } from '../probe';
import { childSignal, DescriptorShortage, processDescriptors, type DescriptorPool } from '../common';
import { SetupGate, SetupWindow, WorkSlots } from './setup-gate';
import { scanCapacity, type ScanCapacity } from './capacity';
import { brokerText } from '../common';
import { redactPassword } from '../credentials';
import { emptyClassificationCounts } from './summary';
import { MIN_DEFER_MS, type Defer, type StageHooks, type StageWork } from './stages';
import type { Classification, MqttInfo, Reachability, ScanResult, Target } from '../types';

/** Brokers being set up (probed) at once, at most, unless the caller says otherwise; SetupWindow
 *  starts lower and grows, and the process's capacity may set it lower (capacity.ts). */
export const DEFAULT_PROBE_CONCURRENCY: number = OPTIONS.probeConcurrency.default;
/** Set-ups a burst of open ports starts with; more as the CPU allows (SetupWindow). */
const FIRST_SETUPS = 4;
/** Deferred work (the other logins, TLS inspections) a burst starts with; more as the CPU allows. */
const FIRST_DEFERRED = 8;

/**
 * Slots for work that can wait (TLS inspections, the probe's other logins): FIRST_DEFERRED (8) at
 * first, more while the event loop has room (SetupWindow), never more than `capacity.inspections`
 * (the process's descriptors and memory, capacity.ts). The engine's scheduler and the TLS
 * inspector node take the same slots, so a flow inspects as many brokers at once as mqtt-scan
 * does. `signal` lets every waiter go when it aborts (each then sees the abort itself).
 */
export function deferredWorkSlots(capacity: ScanCapacity = scanCapacity(), signal?: AbortSignal): WorkSlots {
  return new WorkSlots(new SetupWindow(FIRST_DEFERRED, Math.max(FIRST_DEFERRED, capacity.inspections)), signal);
}

export interface AssessOptions extends Omit<ProbeOptions, 'signal'> {
  scanId: string;
  sweepConcurrency?: number;
  /** Brokers being set up at once, at most (a ceiling: the CPU decides below it). */
  probeConcurrency?: number;
  /** Brokers in the stages after the probe (TLS inspection, listening, risk) at once; default:
   *  what the process can hold (capacity.ts). */
  stageConcurrency?: number;
  /** Also report targets that were not open (closed, filtered, error). */
  includeUnreachable?: boolean;
  signal?: AbortSignal;
  onResult?: (result: ScanResult) => void;
  /** The stages after the probe for each broker found (stages.ts), run `stageConcurrency` brokers
   *  at a time; without them a result is emitted as the probe left it. */
  stages?: StageHooks;
  /** Called once, when the first open port is found and before its probe starts: loads what
   *  the later stages need, so no broker's own time includes it. */
  prepare?: () => void;
  /** Threads that sweep (1: the calling thread itself; more: worker threads, lib/sweep/shards.ts). */
  sweepThreads?: number;
  /** More targets may come after the iterator runs dry (see SweepOptions.more). */
  more?: () => Promise<boolean>;
  /** Called after each swept target and each finished probe. */
  onProgress?: (progress: AssessProgress) => void;
  /** What the process can hold (default scanCapacity(): its descriptors and memory). */
  capacity?: ScanCapacity;
}

export interface AssessProgress {
  swept: number;
  open: number;
  probed: number;
}

export interface AssessStats {
  swept: number;
  reachability: Record<Reachability, number>;
  classification: Record<Classification, number>;
  cancelled: boolean;
}

export function unreachableResult(scanId: string, target: Target, reachability: Reachability, errno?: string): ScanResult {
  const untested = { outcome: 'not_tested' as const };
  return {
    scanId,
    host: target.host,
    port: target.port,
    reachability,
    ...(errno ? { errno } : {}),
    transport: null,
    classification: 'unreachable_or_firewalled',
    mqtt: { versions: {}, brokerVersion: null },
    auth: { anonymous: untested, wrongCredentials: untested, givenCredentials: untested },
    error: errno && reachability === 'error' ? errno : null,
  };
}

/** The CONNACK decoder (lib/mqtt/codec.ts) already keeps at most 256 UTF-16 units and a "…" of a
 *  property: this bound, room for all of them escaped (`\u{10FFFF}` is 10), never cuts again. */
const PROPERTY_CHARS = 257 * 10;

/**
 * The probe's MQTT facts with the MQTT 5 CONNACK's string properties (reason string, server
 * reference, assigned client identifier, response information, user property pairs, MQTT 5.0
 * §3.2.2.3) shown as brokerText: the broker chose them. Numbers pass unchanged, and so do the
 * binary properties' hex strings (nothing in them to escape).
 */
function shownMqtt(mqtt: MqttInfo): MqttInfo {
  const props = mqtt.connackProperties;
  if (!props) return mqtt;
  const shown = (v: unknown): unknown =>
    typeof v === 'string' ? brokerText(v, { maxLength: PROPERTY_CHARS }) : Array.isArray(v) ? v.map(shown) : v;
  return { ...mqtt, connackProperties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, shown(v)])) };
}

/** The sweep on the calling thread, or on worker threads. */
function sweepOn(threads: number): typeof sweep {
  return threads > 1 ? (targets, o) => sweepSharded(targets, { ...o, threads }) : sweep;
}

/**
 * Sweeps `targets` and assesses every open port: the probe, then (with `stages`) the later stages.
 * Emits each result through onResult as it is done; resolves with the counts once every target was
 * swept and every broker assessed, or once `signal` aborted (brokers already probed are still
 * reported, without the later stages). Rejects only when the sweep itself fails.
 */
export function assessTargets(targets: Iterator<Target>, opts: AssessOptions): Promise<AssessStats> {
  const classification = emptyClassificationCounts();
  const capacity = opts.capacity ?? scanCapacity();
  // The user's ceiling (or the default), never more than the process can hold.
  const probeLimit = Math.max(1, Math.min(opts.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY, capacity.setups));
  const stageLimit = Math.max(1, opts.stageConcurrency ?? capacity.listeners);
  const { signal, dispose } = childSignal(opts.signal);
  const pending: Target[] = [];
  const stageQueue: Array<{ result: ScanResult; started: number }> = [];
  const progress: AssessProgress = { swept: 0, open: 0, probed: 0 };
  let probing = 0;
  let inStages = 0;
  let sweepDone = false;
  // Counts the set-ups of every port found and not yet set up (queued or running).
  const gate = new SetupGate();
  const queued: Array<() => void> = [];
  const setups = new SetupWindow(FIRST_SETUPS, probeLimit);
  const deferMaxMs = opts.stages?.deferMaxMs ?? MIN_DEFER_MS;
  const slots = deferredWorkSlots(capacity, signal);
  // Work that can wait: after the set-ups of the ports found so far (at most deferMaxMs), in a slot.
  const defer: Defer = () => gate.idle(deferMaxMs).then(() => slots.acquire());

  return new Promise((resolve, reject) => {
    let sweepStats: Awaited<ReturnType<typeof sweep>> | null = null;

    const maybeFinish = () => {
      if (!sweepDone || probing > 0 || inStages > 0) return;
      if (!signal.aborted && (pending.length > 0 || stageQueue.length > 0)) return;
      // Cancelled: brokers already probed are still reported, without the later stages.
      for (const d of stageQueue.splice(0)) emit({ ...d.result, durationMs: Date.now() - d.started });
      for (const end of queued.splice(0)) end();
      pending.length = 0;
      dispose();
      resolve({
        swept: sweepStats!.probed,
        reachability: sweepStats!.counts,
        classification,
        cancelled: sweepStats!.cancelled || signal.aborted,
      });
    };

    const emit = (found: ScanResult) => {
      // A broker may echo our login back, or carry it in a topic: it never leaves in a result.
      const r = redactPassword(found, opts.credentials?.password);
      classification[r.classification]++;
      opts.onResult?.(r);
    };

    const finished = () => {
      progress.probed++;
      opts.onProgress?.({ ...progress });
    };

    /** The later stages of one broker, on its own signal (`own`, disposed when they end). */
    const finishStages = (result: ScanResult, started: number, work?: StageWork, own = childSignal(signal)) => {
      opts.stages!.finish(result, own.signal, work, defer)
        .catch((err: Error) => ({ ...result, error: `assessment failed: ${err.message}` }))
        .then((full) => emit({ ...full, durationMs: Date.now() - started }))
        .finally(() => {
          own.dispose();
          inStages--;
          finished();
          runStages();
          maybeFinish();
        });
    };

    const runStages = () => {
      while (inStages < stageLimit && stageQueue.length > 0 && !signal.aborted) {
        const { result, started } = stageQueue.shift()!;
        inStages++;
        finishStages(result, started);
      }
    };

    let retry: NodeJS.Timeout | undefined;
    const runProbes = () => {
      const allowed = setups.allowed();
      while (probing < allowed && pending.length > 0 && !signal.aborted) {
        const target = pending.shift()!;
        const endSetup = queued.shift()!;
        probing++;
        const started = Date.now();
        // Each broker's waits (a dozen attempts, the listener's steps) hang on a signal of its own:
        // a thousand brokers' waits on the scan's one signal made each add and remove of an abort
        // listener walk a list of thousands (Node's EventTarget), 0.1 s of one core at 1,000 brokers.
        const own = childSignal(signal);
        const brokerSignal = own.signal;
        // The probe slot is given back when the broker's set-up ends: when its listener is in
        // (the other logins then run in a slot for deferred work), else when the probe is done.
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          endSetup();
          probing--;
          runProbes();
        };
        // Stages started during the probe hold a stage slot from the moment they start.
        let begun: { work: StageWork; hold?: Promise<void> } | null = null;
        // The slot the other logins run in, given back when the probe ends. The probe waits for
        // it at most its timeout (lib/probe onEstablished): a slot that comes after the probe
        // ended is given back at once.
        let endDeferred: (() => void) | undefined;
        let probeEnded = false;
        const probeEnds = () => {
          probeEnded = true;
          endDeferred?.();
        };
        const onEstablished = opts.stages
          ? (e: Established) => {
              if (inStages >= stageLimit || signal.aborted) return;
              inStages++;
              try {
                begun = opts.stages!.start(target, e, brokerSignal, defer);
              } catch {
                // Stages that cannot start now run after the probe (finish), as when no slot was free;
                // the count must come back down, or the scan would never end.
                inStages--;
                return;
              }
              return begun.hold?.then(() => {
                release();
                return defer().then((end) => {
                  if (probeEnded) end();
                  else endDeferred = end;
                });
              });
            }
          : undefined;
        probeBroker(target, { ...opts, signal: brokerSignal, onEstablished })
          .then((o) => {
            probeEnds();
            const result: ScanResult = { scanId: opts.scanId, host: target.host, port: target.port, reachability: 'open', ...o, mqtt: shownMqtt(o.mqtt), error: null };
            if (begun) {
              finishStages(result, started, begun.work, own);
            } else if (opts.stages) {
              own.dispose();
              stageQueue.push({ result, started });
              runStages();
            } else {
              own.dispose();
              emit({ ...result, durationMs: Date.now() - started });
              finished();
            }
          })
          .catch((err: Error) => {
            probeEnds();
            // A listener already started goes on until its window ends, cancellable until then.
            const listening = (begun as { work: StageWork } | null)?.work.sniff;
            if (listening) void listening.finally(own.dispose);
            else own.dispose();
            // No descriptor left, also after waiting: we could not tell; never a verdict.
            if (err instanceof DescriptorShortage) {
              emit({ ...unreachableResult(opts.scanId, target, 'error', err.code), error: err.message, durationMs: Date.now() - started });
            } else {
              // A probe bug must not sink the scan: report it on this target and go on.
              const r = unreachableResult(opts.scanId, target, 'open');
              emit({ ...r, classification: 'not_mqtt', error: `probe failed: ${err.message}` });
            }
            finished();
            if (begun) inStages--;
          })
          .finally(() => {
            release();
            maybeFinish();
          });
      }
      // Held back by the window, not by the limit: look again shortly.
      if (probing >= allowed && allowed < probeLimit && pending.length > 0 && !signal.aborted) {
        retry ??= setTimeout(() => {
          retry = undefined;
          runProbes();
        }, 10);
      }
    };

    // A sweep on worker threads opens its sockets outside this thread's count: it holds its
    // connects' descriptors of the pool for as long as it runs, at most half of the pool.
    const threads = opts.sweepThreads ?? 1;
    const pool: DescriptorPool = processDescriptors();
    const share = threads > 1 ? pool.tryTake(Math.min(effectiveConcurrency(opts.sweepConcurrency), Math.floor(pool.capacity / 2))) : 0;
    const sweepConcurrency = share > 0 ? share : opts.sweepConcurrency;

    sweepOn(threads)(targets, {
      concurrency: sweepConcurrency,
      timeoutMs: opts.timeoutMs ?? DEFAULT_SWEEP_TIMEOUT_MS,
      signal,
      more: opts.more,
      onResult: (target, reachability, errno) => {
        progress.swept++;
        if (reachability === 'open') {
          if (progress.open === 0) opts.prepare?.();
          progress.open++;
          pending.push(target);
          queued.push(gate.begin());
          runProbes();
        } else if (opts.includeUnreachable) {
          emit(unreachableResult(opts.scanId, target, reachability, errno));
        } else {
          classification.unreachable_or_firewalled++;
        }
        opts.onProgress?.({ ...progress });
      },
    }).then((stats) => {
      pool.give(share);
      sweepStats = stats;
      sweepDone = true;
      maybeFinish();
    }, (err) => {
      pool.give(share);
      dispose();
      reject(err);
    });
  });
}
