// The scan history: one SQLite database for every scan that reached a report writer (dashboard,
// HTTP API, any flow), kept across restarts, bounded in scans and bytes, queried by target, worst
// risk and time.
//
// SQLite is sql.js (SQLite compiled to WebAssembly): it installs with `npm install` on any machine,
// no compiler and no prebuilt binary, and runs on Node 20 (which has no node:sqlite) as on 22+.
// sql.js keeps the database in memory; after each change the whole file is written to a temporary
// file, flushed and renamed over the old one, so a crash leaves the old or the new history, never
// half of one. The write is synchronous on purpose: it happens once per finished scan, costs a few
// ms for a history of a few MB (the cap below bounds it), and a history that is written before the
// report writer's message goes on is one a restart right after cannot lose.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { RiskLevel } from '../types';
import { HISTORY_LEVELS, type HistoryEntry, type HistoryPage, type HistoryQuery, type ScoreSeries, type StoredScan, type ScanToStore } from './model';

/** Default bound on the number of scans kept (the report writer's "keep" setting overrides it). */
export const DEFAULT_MAX_SCANS = 500;
/** The most scans a history may be set to keep. */
export const MAX_SCANS_LIMIT = 100_000;
/**
 * Bound on the stored reports' total size, in bytes (UTF-16 code units of the JSON text, close to
 * bytes for the ASCII a report is made of). sql.js holds the whole database in memory, so this is
 * also about what the history costs Node-RED in RAM. Oldest scans go first.
 */
export const DEFAULT_MAX_REPORT_BYTES = 64 * 1024 * 1024;
/** The schema this code writes (PRAGMA user_version). */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scans (
  id TEXT PRIMARY KEY,
  finished_at INTEGER NOT NULL,
  started_at INTEGER,
  duration_ms INTEGER,
  source TEXT NOT NULL,
  target_text TEXT NOT NULL,
  targets TEXT NOT NULL,
  ports TEXT NOT NULL,
  worst TEXT,
  results INTEGER,
  brokers INTEGER,
  open_brokers INTEGER,
  auth_failures INTEGER,
  unreachable INTEGER,
  by_level TEXT NOT NULL,
  average_score REAL,
  cancelled INTEGER NOT NULL DEFAULT 0,
  interrupted INTEGER NOT NULL DEFAULT 0,
  files TEXT NOT NULL,
  report TEXT,
  report_chars INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS scans_finished_at ON scans(finished_at);
CREATE TABLE IF NOT EXISTS brokers (
  scan_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  classification TEXT,
  risk TEXT,
  score INTEGER,
  PRIMARY KEY (scan_id, endpoint)
);
CREATE INDEX IF NOT EXISTS brokers_endpoint ON brokers(endpoint, finished_at);
`;

/** Bounds of one history. */
export interface HistoryBounds {
  /** Scans kept, newest by finish time (1..MAX_SCANS_LIMIT); default DEFAULT_MAX_SCANS. */
  maxScans?: number;
  /** Stored reports' total size (see DEFAULT_MAX_REPORT_BYTES); default that. */
  maxReportBytes?: number;
}

/** What opening found: a file that was not a readable history is moved aside, never overwritten. */
export interface OpenNotice {
  /** Where the unreadable file was moved to. */
  movedTo: string;
  reason: string;
}

let sqlModule: Promise<SqlJsStatic> | undefined;
/** sql.js, loaded once per process (its WebAssembly module is ~0.7 MB). */
function loadSql(): Promise<SqlJsStatic> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const init = require('sql.js') as (config?: { locateFile?: (file: string) => string }) => Promise<SqlJsStatic>;
  sqlModule ??= init({ locateFile: (file) => require.resolve(`sql.js/dist/${file}`) });
  return sqlModule;
}

/**
 * One scan history. Open with ScanHistory.open (a file) or ScanHistory.inMemory (tests, a Node-RED
 * without a user directory). Every method is synchronous once open; `add` writes the file before
 * it returns. Not for two processes on one file: the last writer wins.
 */
export class ScanHistory {
  private constructor(
    private readonly db: Database,
    /** Absolute path of the database file; null: memory only. */
    readonly file: string | null,
    /** Set when the file found at open could not be read and was moved aside. */
    readonly notice: OpenNotice | null,
  ) {}

  /**
   * Opens (or creates) the history in `file`. A file that is not a history this code can read
   * (not SQLite, a newer schema, damaged) is renamed to `<file>.unreadable-<ms>` and a new one is
   * started; `notice` says so. Errors: the folder cannot be created or read (EACCES ...).
   */
  static async open(file: string): Promise<ScanHistory> {
    const SQL = await loadSql();
    const path = resolve(file);
    mkdirSync(dirname(path), { recursive: true });
    let notice: OpenNotice | null = null;
    if (existsSync(path)) {
      try {
        const db = new SQL.Database(readFileSync(path));
        ScanHistory.prepare(db);
        return new ScanHistory(db, path, null);
      } catch (err) {
        const movedTo = `${path}.unreadable-${Date.now()}`;
        renameSync(path, movedTo);
        notice = { movedTo, reason: (err as Error).message };
      }
    }
    const db = new SQL.Database();
    ScanHistory.prepare(db);
    const history = new ScanHistory(db, path, notice);
    history.persist();
    return history;
  }

  /** A history that lives in memory only (nothing survives the process). */
  static async inMemory(): Promise<ScanHistory> {
    const SQL = await loadSql();
    const db = new SQL.Database();
    ScanHistory.prepare(db);
    return new ScanHistory(db, null, null);
  }

  /** Creates the tables; throws when the file is not SQLite or its schema is newer than ours. */
  private static prepare(db: Database): void {
    const version = Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0);
    if (version > SCHEMA_VERSION) throw new Error(`history schema ${version} is newer than this version of the scanner reads (${SCHEMA_VERSION})`);
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  /**
   * Stores a scan (replacing one with the same id), drops the oldest beyond `bounds`, and writes
   * the file. Errors: the file cannot be written (the scan then stays in memory for this run).
   */
  add(scan: ScanToStore, bounds: HistoryBounds = {}): void {
    const reportText = scan.report === null ? null : JSON.stringify(scan.report);
    this.db.exec('BEGIN');
    try {
      this.run('DELETE FROM brokers WHERE scan_id = ?', [scan.scanId]);
      this.run(
        `INSERT OR REPLACE INTO scans (id, finished_at, started_at, duration_ms, source, target_text, targets, ports, worst,
           results, brokers, open_brokers, auth_failures, unreachable, by_level, average_score, cancelled, interrupted, files,
           report, report_chars)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          scan.scanId, scan.finishedAt, scan.startedAt ?? null, scan.durationMs ?? null, scan.source,
          scan.targets.join(', '), JSON.stringify(scan.targets), JSON.stringify(scan.ports), scan.worst,
          scan.results ?? null, scan.brokers ?? null, scan.openBrokers ?? null, scan.authFailures ?? null, scan.unreachable ?? null,
          JSON.stringify(scan.byLevel), scan.averageScore ?? null, scan.cancelled ? 1 : 0, scan.interrupted ? 1 : 0,
          JSON.stringify(scan.files), reportText, reportText?.length ?? 0,
        ],
      );
      const insert = this.db.prepare('INSERT OR REPLACE INTO brokers (scan_id, endpoint, host, port, finished_at, classification, risk, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      try {
        for (const b of scan.endpoints) insert.run([scan.scanId, b.endpoint, b.host, b.port, scan.finishedAt, b.classification, b.risk, b.score]);
      } finally {
        insert.free();
      }
      this.trim(bounds);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    this.persist();
  }

  /** Drops the oldest scans beyond the bounds (the newest scan always stays). */
  private trim(bounds: HistoryBounds): void {
    const maxScans = Math.min(Math.max(1, Math.floor(bounds.maxScans ?? DEFAULT_MAX_SCANS)), MAX_SCANS_LIMIT);
    const maxChars = Math.max(0, bounds.maxReportBytes ?? DEFAULT_MAX_REPORT_BYTES);
    const rows = this.db.exec('SELECT id, report_chars FROM scans ORDER BY finished_at DESC, rowid DESC')[0]?.values ?? [];
    let chars = 0;
    const drop: string[] = [];
    rows.forEach(([id, size], i) => {
      chars += Number(size);
      if (i > 0 && (i >= maxScans || chars > maxChars)) drop.push(String(id));
    });
    for (const id of drop) {
      this.run('DELETE FROM brokers WHERE scan_id = ?', [id]);
      this.run('DELETE FROM scans WHERE id = ?', [id]);
    }
  }

  /** How many scans the history holds. */
  count(): number {
    return Number(this.db.exec('SELECT COUNT(*) FROM scans')[0].values[0][0]);
  }

  /** One page of scans, newest first, that match `query` (see HistoryQuery). */
  list(query: HistoryQuery = {}): HistoryPage {
    const { where, params } = whereOf(query);
    const total = Number(this.one(`SELECT COUNT(*) FROM scans s ${where}`, params) ?? 0);
    const perPage = query.perPage ?? 20;
    const page = query.page ?? 1;
    const rows = this.rows(
      `SELECT id, finished_at, started_at, duration_ms, source, target_text, ports, worst, results, brokers, open_brokers,
              auth_failures, unreachable, by_level, average_score, cancelled, interrupted, files
       FROM scans s ${where} ORDER BY finished_at DESC, rowid DESC LIMIT ? OFFSET ?`,
      [...params, perPage, (page - 1) * perPage],
    );
    return { page, perPage, total, pages: Math.max(1, Math.ceil(total / perPage)), scans: rows.map(entryOf) };
  }

  /** A whole scan: its list entry and the JSON report it was stored with (null: interrupted, no report). Null when unknown. */
  get(scanId: string): StoredScan | null {
    const rows = this.rows(
      `SELECT id, finished_at, started_at, duration_ms, source, target_text, ports, worst, results, brokers, open_brokers,
              auth_failures, unreachable, by_level, average_score, cancelled, interrupted, files, report, targets
       FROM scans WHERE id = ?`,
      [scanId],
    );
    if (!rows.length) return null;
    const row = rows[0];
    return { ...entryOf(row), targets: JSON.parse(String(row.targets)), report: row.report === null ? null : JSON.parse(String(row.report)) };
  }

  /** The report files a scan's writer wrote ({pdf, csv, json} paths), or null when the scan is unknown. */
  files(scanId: string): Partial<Record<'pdf' | 'csv' | 'json', string>> | null {
    const v = this.one('SELECT files FROM scans WHERE id = ?', [scanId]);
    return v === undefined ? null : JSON.parse(String(v));
  }

  /**
   * Each endpoint's score over time, for a chart: the `maxSeries` endpoints scanned most recently
   * among the scans that match `query` (its page and perPage are ignored), each with its rated
   * scans oldest first (at most `maxPoints`, the newest ones).
   */
  scores(query: HistoryQuery = {}, maxSeries = 8, maxPoints = 200): ScoreSeries[] {
    const { where, params } = whereOf(query);
    const scanFilter = `scan_id IN (SELECT id FROM scans s ${where})`;
    const endpoints = this.rows(
      `SELECT endpoint, MAX(finished_at) AS last FROM brokers WHERE score IS NOT NULL AND ${scanFilter}
       GROUP BY endpoint ORDER BY last DESC, endpoint LIMIT ?`,
      [...params, maxSeries],
    ).map((r) => String(r.endpoint));
    return endpoints.map((endpoint) => ({
      endpoint,
      points: this.rows(
        `SELECT finished_at, score, risk, scan_id FROM brokers WHERE endpoint = ? AND score IS NOT NULL AND ${scanFilter}
         ORDER BY finished_at DESC LIMIT ?`,
        [endpoint, ...params, maxPoints],
      )
        .reverse()
        .map((r) => ({ at: Number(r.finished_at), score: Number(r.score), risk: r.risk as RiskLevel, scanId: String(r.scan_id) })),
    }));
  }

  /** Frees the database's memory; the history is unusable afterwards. */
  close(): void {
    this.db.close();
  }

  /** Writes the whole database to its file atomically (temporary file, fsync, rename). */
  private persist(): void {
    if (!this.file) return;
    const data = this.db.export();
    // sql.js's export() ends any open statement and resets PRAGMAs that live on the connection;
    // foreign keys are not used, so nothing needs to be set again.
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  private run(sql: string, params: SqlValue[]): void {
    this.db.run(sql, params);
  }

  private one(sql: string, params: SqlValue[]): SqlValue | undefined {
    return this.db.exec(sql, params)[0]?.values[0]?.[0];
  }

  private rows(sql: string, params: SqlValue[]): Array<Record<string, SqlValue>> {
    const stmt = this.db.prepare(sql, params);
    const out: Array<Record<string, SqlValue>> = [];
    try {
      while (stmt.step()) out.push(stmt.getAsObject());
    } finally {
      stmt.free();
    }
    return out;
  }
}

/** The SQL filter of a query over `scans s`. Text is compared with instr(), so % and _ are plain characters. */
function whereOf(q: HistoryQuery): { where: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (q.target) {
    parts.push(`(instr(lower(s.target_text), lower(?)) > 0 OR EXISTS (SELECT 1 FROM brokers b WHERE b.scan_id = s.id AND instr(lower(b.endpoint), lower(?)) > 0))`);
    params.push(q.target, q.target);
  }
  if (q.worst?.length) {
    const levels = q.worst.filter((l) => l !== 'none');
    const clauses = levels.length ? [`s.worst IN (${levels.map(() => '?').join(', ')})`] : [];
    params.push(...levels);
    if (q.worst.includes('none')) clauses.push('s.worst IS NULL');
    parts.push(`(${clauses.join(' OR ')})`);
  }
  if (q.since !== undefined) {
    parts.push('s.finished_at >= ?');
    params.push(q.since);
  }
  if (q.until !== undefined) {
    parts.push('s.finished_at < ?');
    params.push(q.until);
  }
  if (q.source) {
    parts.push('s.source = ?');
    params.push(q.source);
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

function entryOf(r: Record<string, SqlValue>): HistoryEntry {
  const files = JSON.parse(String(r.files)) as Record<string, unknown>;
  const num = (v: SqlValue) => (v === null ? undefined : Number(v));
  return {
    scanId: String(r.id),
    at: new Date(Number(r.finished_at)).toISOString(),
    ...(r.started_at !== null ? { startedAt: new Date(Number(r.started_at)).toISOString() } : {}),
    durationMs: num(r.duration_ms),
    source: String(r.source) as HistoryEntry['source'],
    target: String(r.target_text),
    ports: JSON.parse(String(r.ports)) as number[],
    scanned: num(r.results),
    brokers: num(r.brokers),
    open: num(r.open_brokers),
    authFailures: num(r.auth_failures),
    unreachable: num(r.unreachable),
    worst: HISTORY_LEVELS.includes(r.worst as RiskLevel) ? (r.worst as RiskLevel) : null,
    byLevel: JSON.parse(String(r.by_level)),
    averageScore: r.average_score === null ? null : Number(r.average_score),
    cancelled: r.cancelled === 1,
    ...(r.interrupted === 1 ? { interrupted: true } : {}),
    formats: (['pdf', 'csv', 'json'] as const).filter((f) => typeof files[f] === 'string'),
  };
}
