// Sweep a set of targets and run the MQTT probe on every open port as soon as it is found.
import { sweep, DEFAULT_SWEEP_TIMEOUT_MS } from './sweep';
import { probeBroker, type ProbeOptions } from './probe';
import type { Classification, Reachability, ScanResult, Target } from './types';

export const DEFAULT_PROBE_CONCURRENCY = 32;

export interface AssessOptions extends Omit<ProbeOptions, 'signal'> {
  scanId: string;
  sweepConcurrency?: number;
  probeConcurrency?: number;
  /** Also report targets that were not open (closed, filtered, error). */
  includeUnreachable?: boolean;
  signal?: AbortSignal;
  onResult?: (result: ScanResult) => void;
  /** Further stages for each broker found (TLS inspection, sniffing, risk), run in the probe's slot. */
  deep?: (result: ScanResult) => Promise<ScanResult>;
  /** Called after each swept target and each finished probe. */
  onProgress?: (progress: AssessProgress) => void;
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

export function emptyClassificationCounts(): Record<Classification, number> {
  return { open_or_auth_ok: 0, not_authorized: 0, unreachable_or_firewalled: 0, tls_or_ssl_error: 0, not_mqtt: 0 };
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

export function assessTargets(targets: Iterator<Target>, opts: AssessOptions): Promise<AssessStats> {
  const classification = emptyClassificationCounts();
  const probeLimit = Math.max(1, opts.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY);
  const pending: Target[] = [];
  const progress: AssessProgress = { swept: 0, open: 0, probed: 0 };
  let running = 0;
  let sweepDone = false;

  return new Promise((resolve, reject) => {
    let sweepStats: Awaited<ReturnType<typeof sweep>> | null = null;

    const maybeFinish = () => {
      if (!sweepDone || running > 0 || (pending.length > 0 && !opts.signal?.aborted)) return;
      resolve({
        swept: sweepStats!.probed,
        reachability: sweepStats!.counts,
        classification,
        cancelled: sweepStats!.cancelled || !!opts.signal?.aborted,
      });
    };

    const emit = (r: ScanResult) => {
      classification[r.classification]++;
      opts.onResult?.(r);
    };

    const runProbes = () => {
      while (running < probeLimit && pending.length > 0 && !opts.signal?.aborted) {
        const target = pending.shift()!;
        running++;
        const started = Date.now();
        probeBroker(target, { ...opts, signal: opts.signal })
          .then(async (o) => {
            const probed: ScanResult = { scanId: opts.scanId, host: target.host, port: target.port, reachability: 'open', ...o, error: null };
            const full = opts.deep ? await opts.deep(probed) : probed;
            emit({ ...full, durationMs: Date.now() - started });
          })
          .catch((err: Error) => {
            // A probe bug must not sink the scan: report it on this target and go on.
            const r = unreachableResult(opts.scanId, target, 'open');
            emit({ ...r, classification: 'not_mqtt', error: `probe failed: ${err.message}` });
          })
          .finally(() => {
            running--;
            progress.probed++;
            opts.onProgress?.({ ...progress });
            runProbes();
            maybeFinish();
          });
      }
    };

    sweep(targets, {
      concurrency: opts.sweepConcurrency,
      timeoutMs: opts.timeoutMs ?? DEFAULT_SWEEP_TIMEOUT_MS,
      signal: opts.signal,
      onResult: (target, reachability, errno) => {
        progress.swept++;
        if (reachability === 'open') {
          progress.open++;
          pending.push(target);
          runProbes();
        } else if (opts.includeUnreachable) {
          emit(unreachableResult(opts.scanId, target, reachability, errno));
        } else {
          classification.unreachable_or_firewalled++;
        }
        opts.onProgress?.({ ...progress });
      },
    }).then((stats) => {
      sweepStats = stats;
      sweepDone = true;
      maybeFinish();
    }, reject);
  });
}
