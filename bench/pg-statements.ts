/**
 * Where PostgreSQL's time goes in a step: its `pg_stat_statements` counters for the step's
 * database, read at both ends of the window and told apart statement by statement. The test
 * services load the module and create its view in the server's `postgres` database
 * (scripts/services.sh); on a server without it the bench goes on without this table.
 *
 * The window's ends read the counters alone, and the texts are read once, after the load. A read
 * with the texts returns every statement the server keeps (up to 5,000, the seeding's multi-row
 * inserts among them: some 20 MB) and holds the module's lock meanwhile; the window's first
 * read ran in its first second, while the load was being measured.
 */
import { benchSql, databaseOnServer } from "./postgres.ts";

/** One statement's counters as the server holds them (cumulative). */
export interface StatementCounters {
  /** Empty when read without the texts (see `readStatementTexts`). */
  query: string;
  calls: number;
  /** Time executing it, in milliseconds (planning not included). */
  totalMs: number;
  rows: number;
}

/** A statement's share of a window. */
export interface StatementShare {
  /** The statement's text, its spaces folded, cut to STATEMENT_TEXT characters. */
  statement: string;
  callsPerS: number;
  /** PostgreSQL's time executing it, in milliseconds per second of the window (1,000 = one core). */
  msPerS: number;
  /** Per call: microseconds, and rows. */
  usPerCall: number;
  rowsPerCall: number;
}

export type StatementSnapshot = Map<string, StatementCounters>;

/** How much of a statement's text the report shows. */
const STATEMENT_TEXT = 90;
/** How many statements the report keeps, those that took most of PostgreSQL's time first. */
export const TOP_STATEMENTS = 8;

/**
 * The counters of every statement run in `database`, by statement (its id and who ran it),
 * without their texts; undefined when the server does not keep them (the module not loaded, or
 * its view not there).
 */
export async function readStatements(serverUrl: string, database: string): Promise<StatementSnapshot | undefined> {
  const rows = await fromServer(
    serverUrl,
    (sql) => sql<{ id: string; calls: string; total_ms: number; rows: string }[]>`
      select s.queryid::text || '/' || s.userid::text as id, s.calls::text, s.total_exec_time as total_ms, s.rows::text
        from pg_stat_statements(false) s
       where s.dbid = (select oid from pg_database where datname = ${database}) and s.queryid is not null`,
  );
  return rows && new Map(rows.map((r) => [r.id, { query: "", calls: Number(r.calls), totalMs: r.total_ms, rows: Number(r.rows) }]));
}

/** The texts of the statements run in `database`, by statement; undefined as for `readStatements`. */
export async function readStatementTexts(serverUrl: string, database: string): Promise<Map<string, string> | undefined> {
  const rows = await fromServer(
    serverUrl,
    (sql) => sql<{ id: string; query: string }[]>`
      select s.queryid::text || '/' || s.userid::text as id, s.query
        from pg_stat_statements(true) s
       where s.dbid = (select oid from pg_database where datname = ${database}) and s.queryid is not null`,
  );
  return rows && new Map(rows.map((r) => [r.id, r.query]));
}

async function fromServer<T>(serverUrl: string, read: (sql: ReturnType<typeof benchSql>) => Promise<T>): Promise<T | undefined> {
  // the view lives in the server's own `postgres` database
  const sql = benchSql(databaseOnServer(serverUrl, "postgres"));
  try {
    return await read(sql);
  } catch {
    return undefined;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The statements of a window (`seconds` long) between two snapshots, those that took most time
 * first; each named by its text in `texts` where the snapshot was read without.
 */
export function statementsBetween(
  before: StatementSnapshot,
  after: StatementSnapshot,
  seconds: number,
  top = TOP_STATEMENTS,
  texts?: ReadonlyMap<string, string>,
): StatementShare[] {
  const shares: StatementShare[] = [];
  for (const [id, a] of after) {
    const b = before.get(id);
    // A statement the server forgot meanwhile (its table of statements was full) counts from zero.
    const since = b && b.calls <= a.calls ? b : { calls: 0, totalMs: 0, rows: 0 };
    const calls = a.calls - since.calls;
    if (calls <= 0) continue;
    const ms = a.totalMs - since.totalMs;
    shares.push({
      statement: (a.query || texts?.get(id) || "").replace(/\s+/g, " ").trim().slice(0, STATEMENT_TEXT),
      callsPerS: round1(calls / seconds),
      msPerS: round1(ms / seconds),
      usPerCall: Math.round((ms * 1000) / calls),
      rowsPerCall: round1((a.rows - since.rows) / calls),
    });
  }
  return shares.sort((x, y) => y.msPerS - x.msPerS).slice(0, top);
}

const round1 = (n: number) => Math.round(n * 10) / 10;
