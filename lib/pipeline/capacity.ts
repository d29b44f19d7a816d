// How much of a deep assessment one process can hold at once: brokers being set up, brokers
// listening, TLS inspections. Bounded by the file descriptors the process may open (lib/common
// descriptors.ts) and by memory, with the cost of each measured below; not by a fixed number of
// brokers. How many of them run is decided by the CPU (setup-gate.ts: SetupWindow).
import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import { processDescriptors, type DescriptorPool } from '../common';

/**
 * Descriptors a broker holds while it is set up: the probe's round two runs the other MQTT
 * version, the made-up login and, with a client certificate, the certificate-less attempt at once
 * (lib/probe, 3), next to the listener that opened first (1).
 */
export const SETUP_DESCRIPTORS = 4;
/** Descriptors of a broker listening: the listener's one connection (the write test publishes on it). */
export const LISTEN_DESCRIPTORS = 1;
/**
 * Descriptors of one TLS inspection (lib/tls inspectTls) at its widest: the main handshake, four
 * protocol versions and five weak cipher families at once (10), then the client-certificate retry
 * or a pre-shared-key offer (1 more): 11.
 */
export const INSPECTION_DESCRIPTORS = 11;

/**
 * Memory of one broker listening, in bytes: its socket, listener session, bounded topic collector
 * and the result it becomes. Measured (bench/lib/listener-farm.ts, Mosquitto listeners with the
 * lab device's retained topics and $SYS, 8 s of listening, peak RSS less that of a scan of as
 * many closed ports): 900 plain listeners 84 MB, about 93 KB each; 100 TLS listeners (no
 * inspection) 35 MB, about 350 KB each (OpenSSL's buffers). Counted at the TLS figure, rounded
 * up: 384 KB. A broker that sends more than the lab device costs more, up to the collector's own
 * bound (SNIFF_DEFAULTS.maxTotalBytes, 4 MB), which it reaches only by sending that much.
 */
export const LISTENER_BYTES = 384 * 1024;
/**
 * Memory of one TLS inspection in flight, in bytes: up to 11 TLS sockets with OpenSSL's buffers,
 * the peer chain. Measured with 20, 50 and 100 inspections started at once against the same
 * listeners (peak RSS less the RSS before): 505, 511 and 566 KB each. Counted at 640 KB.
 */
export const INSPECTION_BYTES = 640 * 1024;
/** Memory of one set-up in flight (the probe's attempts, a TLS session), counted as a listener. */
export const SETUP_BYTES = LISTENER_BYTES;

/** What one process can hold at once, for one scan. */
export interface ScanCapacity {
  /** Descriptors the pool hands out (the open-file limit less a reserve). */
  descriptors: number;
  /** Memory the scan's brokers may take, in bytes (memoryBudget). */
  memoryBytes: number;
  /** Brokers being set up at once, at most. */
  setups: number;
  /** Brokers listening (in the stages after the probe) at once, at most. */
  listeners: number;
  /** TLS inspections at once, at most. */
  inspections: number;
}

/**
 * The memory a scan's brokers in flight may take, in bytes: half of the heap V8 allows this
 * process (the results and collectors live there), at most a quarter of the machine's memory
 * (sockets and OpenSSL's buffers live outside the heap).
 */
export function memoryBudget(): number {
  return Math.floor(Math.min(getHeapStatistics().heap_size_limit / 2, totalmem() / 4));
}

/**
 * The bounds for a scan from the process's descriptor pool and memory budget. Each is at least 1;
 * a pool smaller than one inspection's descriptors runs one inspection at a time (the pool cuts
 * the request).
 */
export function scanCapacity(pool: DescriptorPool = processDescriptors(), memoryBytes: number = memoryBudget()): ScanCapacity {
  const fit = (descriptors: number, bytes: number) => Math.max(1, Math.min(Math.floor(pool.capacity / descriptors), Math.floor(memoryBytes / bytes)));
  return {
    descriptors: pool.capacity,
    memoryBytes,
    setups: fit(SETUP_DESCRIPTORS, SETUP_BYTES),
    listeners: fit(LISTEN_DESCRIPTORS, LISTENER_BYTES),
    inspections: fit(INSPECTION_DESCRIPTORS, INSPECTION_BYTES),
  };
}
