/**
 * Applies pending migrations, each in its own transaction, recorded in `schema_migrations`.
 *
 * Safe when several processes start at once: every step runs under one transaction-scoped
 * advisory lock and re-checks what is applied after taking it, so a migration runs exactly once
 * and the others wait, then skip it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Executor, Queryable } from './executor.ts';
import type { Migration } from './migrations.ts';

/** Advisory lock key of the migration runner (any constant; ASCII "sbmigr" as a bigint). */
const MIGRATION_LOCK = '126866579613554';

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface MigrateResult {
  /** Versions this call applied (empty when the schema was current, or another process did it). */
  applied: number[];
}

/** Throws when the list is not 1, 2, 3 … (a mistake when appending, caught on the first start). */
export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(
        `migration #${i + 1} (${m.name}) has version ${m.version}; versions must be 1, 2, 3 … in order`,
      );
    }
  });
}

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex').slice(0, 16);
}

export async function migrate(
  db: Executor,
  list: readonly Migration[],
  logger?: Logger,
): Promise<MigrateResult> {
  checkMigrationList(list);
  // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: take the lock first.
  const recorded = await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(CREATE_TABLE);
    return tx.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  });

  const known = new Map(recorded.map((r) => [r.version, r.checksum]));
  for (const m of list) {
    const checksum = known.get(m.version);
    if (checksum !== undefined && checksum !== migrationChecksum(m)) {
      logger?.warn(
        { version: m.version, name: m.name },
        'an applied migration was edited since; append a new one instead',
      );
    }
  }
  const newest = Math.max(0, ...known.keys());
  if (newest > list.length) {
    logger?.warn(
      { database: newest, code: list.length },
      'database schema is newer than this build (a rollback?)',
    );
  }

  const applied: number[] = [];
  for (const m of list) {
    if (known.has(m.version)) continue;
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      // Another process may have applied it while we waited for the lock.
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        migrationChecksum(m),
      ]);
      return true;
    });
    if (ran) {
      applied.push(m.version);
      logger?.info({ version: m.version, migration: m.name, driver: db.driver }, 'applied store migration');
    }
  }
  return { applied };
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
}
