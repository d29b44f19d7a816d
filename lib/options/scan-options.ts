// The numeric options of a scan, in one table: default, bounds, unit, CLI flag, Node-RED node
// property and help text. The CLI (cli/args.ts) builds its parser and --help from it, the nodes
// take their defaults and clamps from it (nodes/shared/config.ts), and the lib's DEFAULT_*
// constants are reads of it. The nodes' editor HTML and help cannot import it (they are static
// files served to the browser): test/options/ checks them against this table.
//
// One set of bounds per option, the same in the CLI and in every node. The library itself takes
// what its callers give (tests and the bench use shorter timeouts on loopback), except where it
// already clamped (the sniffer's sizes, which bound memory).

/** What a number counts: milliseconds, seconds, things (connections, targets, topics), characters. */
export type OptionUnit = 'ms' | 's' | 'count' | 'chars';

/** One numeric scan option. */
export interface ScanOption {
  /** The camelCase name, the key of OPTIONS; where lib's own field differs, `help` says so. */
  readonly name: string;
  /** Its flag on mqtt-scan, e.g. '--timeout'; absent when only the library or a node has it. */
  readonly flag?: string;
  /** The flag's value placeholder in --help: MS, N, SECONDS. */
  readonly flagValue?: string;
  /** Node-RED node type -> the property of that node's config holding this option. */
  readonly nodes: Readonly<Record<string, string>>;
  readonly unit: OptionUnit;
  /** The default, in `unit`; null when it is worked out at run time (`defaultText` says how). */
  readonly default: number | null;
  /** How a computed default is worked out, for --help. */
  readonly defaultText?: string;
  /** Smallest value accepted, in `unit`. */
  readonly min: number;
  /** Largest value accepted, in `unit`. */
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
  /** One line of help, without the default and bounds (those are added from the fields above). */
  readonly help: string;
}

/** A ScanOption whose default is a number (every option a node has). */
export interface ScanOptionWithDefault extends ScanOption {
  readonly default: number;
}

export const OPTIONS = {
  /**
   * Connect, CONNACK and TLS-handshake timeout of each attempt: the sweep's TCP connect, every
   * MQTT login of the probe, and each handshake of the TLS inspection (lib's timeoutMs).
   * Minimum 50 ms, not 1: the sweep checks its deadlines on a timer of at least 10 ms, and below
   * a few tens of milliseconds a busy event loop alone makes every port look filtered, a scan
   * that reports nothing while seeming to work. A TCP connect and CONNACK on loopback or a quiet
   * LAN take a few milliseconds, so 50 ms still measures something. At most 10 minutes.
   */
  timeoutMs: {
    name: 'timeoutMs',
    flag: '--timeout',
    flagValue: 'MS',
    nodes: { 'mqttsec-broker-probe': 'timeout', 'mqttsec-tls-inspector': 'timeout', 'mqttsec-site-coordinator': 'timeout' },
    unit: 'ms',
    default: 2000,
    min: 50,
    max: 600_000,
    integer: true,
    help: 'connect, CONNACK and TLS handshake timeout per attempt',
  },
  /**
   * TCP connects in flight while sweeping (lib's sweepConcurrency). Enough that a /24 x 2 ports of
   * silent hosts is one timeout round, not two; lowered to the open-file limit at run time.
   */
  sweepConcurrency: {
    name: 'sweepConcurrency',
    flag: '--concurrency',
    flagValue: 'N',
    nodes: { 'mqttsec-broker-probe': 'concurrency' },
    unit: 'count',
    default: 1024,
    min: 1,
    max: 65_536,
    integer: true,
    help: 'parallel TCP connects while sweeping, at most what the open-file limit allows',
  },
  /** Brokers being set up (probed) at once, at most; a burst starts with 4 and grows while the CPU
   *  has room. A set-up ends when the broker's listener is in (its other logins run later, in the
   *  listen window), so this bounds CPU work, not how many brokers listen at once; the process's
   *  capacity (lib/pipeline/capacity.ts) may set it lower. */
  probeConcurrency: {
    name: 'probeConcurrency',
    flag: '--probe-concurrency',
    flagValue: 'N',
    nodes: { 'mqttsec-broker-probe': 'probeConcurrency' },
    unit: 'count',
    default: 64,
    min: 1,
    max: 4096,
    integer: true,
    help: 'open ports set up at once, at most; starts at 4 and grows while the CPU has room',
  },
  /** Brokers in the stages after the probe (TLS inspection, listening, risk) at once; library
   *  only. Those stages mostly wait, so many brokers can be in them at once: by default as many
   *  as the process can hold (lib/pipeline/capacity.ts: its open-file limit and memory), not a
   *  fixed number; a fixed 64 made a scan of 200 brokers listen in four rounds. */
  stageConcurrency: {
    name: 'stageConcurrency',
    nodes: {},
    unit: 'count',
    default: null,
    defaultText: 'as many as the open-file limit and memory allow',
    min: 1,
    max: 1_048_576,
    integer: true,
    help: 'brokers in TLS inspection and listening at once, after their probe',
  },
  /** Threads that sweep (lib's sweepThreads); by default lib/sweep sweepThreadsFor(targets). */
  sweepThreads: {
    name: 'sweepThreads',
    flag: '--threads',
    flagValue: 'N',
    nodes: {},
    unit: 'count',
    default: null,
    defaultText: 'one per core, up to 4, from 16384 targets',
    min: 1,
    max: 64,
    integer: true,
    help: 'threads that sweep; 1 = sweep in the main thread only',
  },
  /**
   * Largest scan, in host:port pairs: a typo cannot start a scan of millions of addresses. The
   * library also takes Infinity; the CLI and the nodes stop at 2^32, the whole IPv4 space.
   */
  maxTargets: {
    name: 'maxTargets',
    flag: '--max-targets',
    flagValue: 'N',
    nodes: { 'mqttsec-target-expander': 'maxTargets' },
    unit: 'count',
    default: 65_536,
    min: 1,
    max: 2 ** 32,
    integer: true,
    help: 'refuse scans larger than N host:port pairs',
  },
  /**
   * Targets per message from the target expander. One sweep per scan reads every batch, so the
   * size no longer sets concurrency. Measured on a /16 x 2 ports: 512 messages of 256 made the
   * flow ~10% slower than the engine (main-thread time while the sweep threads want the CPU);
   * 32 of 4096 did not. At most 65536, the default largest scan: 16 batches go out ahead of the
   * sweep, so bigger batches would only hold more targets in memory.
   */
  batchSize: {
    name: 'batchSize',
    nodes: { 'mqttsec-target-expander': 'batchSize' },
    unit: 'count',
    default: 4096,
    min: 1,
    max: 65_536,
    integer: true,
    help: 'targets per message to the broker probe',
  },
  /**
   * How long to listen to '#' and '$SYS/#' on each readable broker, in seconds (lib's listenMs is
   * this x 1000). 0 subscribes and leaves at once: which subscriptions the broker allows, nothing
   * heard. At most 10 minutes. (The HTTP API allows at most 60 s: its answer waits for the scan.)
   */
  listenSeconds: {
    name: 'listenSeconds',
    flag: '--listen',
    flagValue: 'SECONDS',
    nodes: { 'mqttsec-topic-sniffer': 'listen', 'mqttsec-site-coordinator': 'listen' },
    unit: 's',
    default: 5,
    min: 0,
    max: 600,
    integer: false,
    help: "how long to listen to '#' and '$SYS/#' on readable brokers",
  },
  /** Characters of a payload kept as its sample. */
  sampleChars: {
    name: 'sampleChars',
    nodes: { 'mqttsec-topic-sniffer': 'sampleChars' },
    unit: 'chars',
    default: 100,
    min: 8,
    max: 4096,
    integer: true,
    help: 'characters of a payload kept as its sample',
  },
  /** Distinct topics kept per broker; beyond that they are counted, not kept (bounds memory). */
  maxTopics: {
    name: 'maxTopics',
    nodes: { 'mqttsec-topic-sniffer': 'maxTopics' },
    unit: 'count',
    default: 500,
    min: 1,
    max: 100_000,
    integer: true,
    help: 'topics kept per broker; more are counted, not kept',
  },
  /** Brokers the topic sniffer node listens to at once, at most; never more than the process can
   *  hold (lib/pipeline/capacity.ts: one descriptor and LISTENER_BYTES each), as for the CLI's
   *  stages. A fixed 8 made 1,000 brokers listen in 125 rounds of 3 s (bench flow1000). */
  sniffConcurrency: {
    name: 'sniffConcurrency',
    nodes: { 'mqttsec-topic-sniffer': 'concurrency' },
    unit: 'count',
    default: 4096,
    min: 1,
    max: 1_048_576,
    integer: true,
    help: 'brokers listened to at once',
  },
} as const satisfies Record<string, ScanOption>;

/** The name of a scan option, a key of OPTIONS. */
export type OptionName = keyof typeof OPTIONS;

/** Every option, in table order. */
export const OPTION_LIST: readonly ScanOption[] = Object.values(OPTIONS);

const UNIT_WORDS: Record<OptionUnit, string> = { ms: 'milliseconds', s: 'seconds', count: '', chars: 'characters' };

/** The bounds in words, e.g. "a whole number of milliseconds from 50 to 600000". */
export function describeBounds(o: ScanOption): string {
  const unit = UNIT_WORDS[o.unit];
  return `${o.integer ? 'a whole number' : 'a number'}${unit ? ` of ${unit}` : ''} from ${o.min} to ${o.max}`;
}

/** The default in words: "2000 ms", "5 s", "1024", or how a computed default is worked out. */
export function formatDefault(o: ScanOption): string {
  const unit = o.unit === 'ms' || o.unit === 's' ? ` ${o.unit}` : '';
  return o.default === null ? o.defaultText ?? 'worked out at run time' : `${o.default}${unit}`;
}

/** "(default 2000 ms; 50 to 600000)": what --help says after an option. */
export function describeDefault(o: ScanOption): string {
  return `(default ${formatDefault(o)}; ${o.min} to ${o.max})`;
}

/**
 * Checks a value against an option: a finite number within [min, max], whole when the option is.
 * Returns null when it fits, else why not (the bounds in words, without the option's name).
 */
export function checkOption(o: ScanOption, value: number): string | null {
  if (!Number.isFinite(value) || value < o.min || value > o.max || (o.integer && !Number.isInteger(value))) {
    return `must be ${describeBounds(o)}`;
  }
  return null;
}

/** A value clamped into the option's bounds (floored when it is whole-numbered); the default when not a finite number. */
export function clampOption(o: ScanOptionWithDefault, value: unknown): number {
  const n = typeof value === 'number' ? value : Number.NaN;
  if (!Number.isFinite(n)) return o.default;
  const clamped = Math.min(o.max, Math.max(o.min, n));
  return o.integer ? Math.floor(clamped) : clamped;
}
