/**
 * The embedded driver: PGlite (PostgreSQL in WebAssembly) in a data directory, for a first run
 * without DATABASE_URL. One process, one connection: statements and transactions of concurrent
 * callers are queued here, so a transaction never sees another caller's statement in the middle.
 */
import { mkdirSync } from 'node:fs';
import { type Extensions, PGlite, type Transaction } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.ts';
import { type Executor, OID, type Queryable, toIsoTimestamp, toSafeNumber } from './executor.ts';

export interface PgliteExecutorOptions {
  /** Directory of the database files, created if missing; omit for a throwaway in-memory database. */
  dataDir?: string;
  /** PGlite extensions to load (e.g. `vector` from `@electric-sql/pglite/vector` for the KB). */
  extensions?: Extensions;
}

/** A FIFO queue of async jobs, one at a time. */
function createSerialQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    // The queue continues whatever this job's outcome; the caller still sees its rejection.
    tail = run.catch(() => undefined);
    return run;
  };
}

export async function createPgliteExecutor(opts: PgliteExecutorOptions = {}): Promise<Executor> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const lock = opts.dataDir ? lockDataDir(opts.dataDir) : undefined;
  let db: PGlite;
  try {
    db = await PGlite.create({
      dataDir: opts.dataDir,
      extensions: opts.extensions,
      parsers: {
        [OID.timestamptz]: (raw: string) => toIsoTimestamp(new Date(raw), raw),
        [OID.int8]: toSafeNumber,
      },
    });
  } catch (err) {
    lock?.release();
    throw err;
  }

  // PGlite queues internally too (0.4.6), but that is not part of its documented contract; this
  // queue is ours to rely on.
  const serial = createSerialQueue();
  const inTx = (tx: Transaction): Queryable => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      return (await tx.query<R>(sql, [...params])).rows;
    },
    async exec(sql: string): Promise<void> {
      await tx.exec(sql);
    },
  });

  return {
    driver: 'pglite',
    query: <R extends object>(sql: string, params: readonly unknown[] = []) =>
      serial(async () => (await db.query<R>(sql, [...params])).rows),
    exec: (sql: string) =>
      serial(async () => {
        await db.exec(sql);
      }),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => serial(() => db.transaction((tx) => fn(inTx(tx)))),
    async close(): Promise<void> {
      try {
        // Idempotent: shutdown paths may close twice.
        await serial(async () => {
          if (!db.closed) await db.close();
        });
      } finally {
        lock?.release();
      }
    },
  };
}
