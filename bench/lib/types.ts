export type Verdict = 'PASS' | 'FAIL' | 'SKIP' | 'INFO';

export interface Row {
  case: string;
  what: string;
  ours: string;
  peer: string;
  ratio: string;
  memory: string;
  target: string;
  verdict: Verdict;
  notes?: string;
}

export interface CaseResult {
  name: string;
  rows: Row[];
  /** Flat numbers compared with the previous run (lower is better for all of them). */
  metrics: Record<string, number | null>;
  details: Record<string, unknown>;
}

export interface BenchContext {
  root: string;
  node: string;
  cli: string;
  repeat: number;
  /** Bound of every measured process, ms. */
  runLimitMs: number;
  nmap: string | null;
  profile: boolean;
  resultsDir: string;
  /** Filled by the sweep16 case for the memory and flow cases. */
  shared: { sweep16RssMb?: number; sweep16CliMs?: number[]; /** The JSON results of deep1000's last run (for the report case). */ deep1000Results?: string };
  log(msg: string): void;
}

export type CaseFn = (ctx: BenchContext) => Promise<CaseResult>;
