/**
 * The `pg` driver: a connection pool on a real PostgreSQL (DATABASE_URL). Every hub process has its
 * own pool; processes coordinate through the database (row locks, advisory locks), not through us.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { type Executor, OID, type Queryable, toIsoTimestamp, toSafeNumber } from './executor.ts';

export interface PgExecutorOptions {
  /** `postgres://user:password@host:port/database`, as in DATABASE_URL. */
  url: string;
  /**
   * Connections per process. Writes are short single statements, so a few connections carry a
   * worker's concurrency; ten keeps a handful of hub processes well under PostgreSQL's default 100.
   */
  maxConnections?: number;
  logger?: Logger;
}

const defaultParsers = pg.types;
const parseDate = defaultParsers.getTypeParser(OID.timestamptz, 'text');

/**
 * Per-pool type parsers, so code elsewhere in the process that uses `pg` (order lookups) keeps the
 * library defaults.
 */
const storeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === OID.timestamptz) return (raw: string) => toIsoTimestamp(parseDate(raw), raw);
      if (oid === OID.int8) return toSafeNumber;
    }
    return defaultParsers.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Opens a pool lazily: no connection is made until the first query (see `openStore` for the reachability check). */
export function createPgExecutor(opts: PgExecutorOptions): Executor {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.maxConnections ?? 10,
    idleTimeoutMillis: 30_000,
    // Fail fast instead of queueing forever when the server is gone or the pool is exhausted.
    connectionTimeoutMillis: 5_000,
    application_name: 'switchboard',
    types: storeTypes,
  });
  // An idle client losing its connection (server restart) emits here; unhandled, it would crash
  // the process. The pool drops the client and the next query reconnects.
  pool.on('error', (err) => opts.logger?.warn({ err }, 'idle PostgreSQL connection lost'));

  const on = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await client.query<R>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      // Without parameters `pg` uses the simple protocol, which accepts several statements.
      await client.query(sql);
    },
  });

  const root = on(pool);
  return {
    driver: 'pg',
    query: root.query,
    exec: root.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(on(client));
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
          client.release();
        } catch (rollbackErr) {
          // The connection is in an unknown state: destroy it rather than hand it back to the pool.
          client.release(rollbackErr instanceof Error ? rollbackErr : true);
        }
        throw err;
      }
    },
    async close(): Promise<void> {
      // Idempotent: shutdown paths may close twice, and `pool.end()` throws the second time.
      if (!pool.ending) await pool.end();
    },
  };
}
