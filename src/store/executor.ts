/**
 * The small SQL seam under the store: two drivers (`pg`, PGlite) behind one shape, so the store,
 * its migrations and later tables (agents, kb) are written once.
 *
 * Both drivers return rows as plain objects with the same value types: `timestamptz` as ISO-8601
 * strings, `bigint` as numbers, `json`/`jsonb` parsed. Parameters are bound, never interpolated.
 */

/** Something SQL can be sent to: the executor itself, or one open transaction. */
export interface Queryable {
  /** One parameterized statement; resolves to its rows (empty for statements without RETURNING). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of one or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Executor extends Queryable {
  readonly driver: 'pg' | 'pglite';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Send the transaction's statements through `tx`, never through the executor itself: on PGlite
   * (one connection) that would wait for the transaction that is waiting for it.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `timestamptz` → ISO string, whatever the driver parsed it into; infinities and oddities stay text. */
export function toIsoTimestamp(parsed: unknown, raw: string): string {
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : raw;
}

/** `bigint` → number. Our bigints are sequence values and counts, far below 2^53. */
export function toSafeNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${raw} does not fit a JavaScript number`);
  return n;
}

/** Type OIDs both drivers need custom parsers for. */
export const OID = { int8: 20, timestamptz: 1184 } as const;
