import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll } from 'vitest';
import { kbMigration } from '../../../src/ai/kb/migration.ts';
import { MemoryKbRepository } from '../../../src/ai/kb/repository.ts';
import { SqlKbRepository, sqlExecutorOf } from '../../../src/ai/kb/sql-repository.ts';
import type { TestDatabase } from '../../helpers/pg.ts';
import { createTestDatabase } from '../../helpers/pg.ts';
import { kbRepositoryContract } from './repository.contract.ts';

const RESET = 'TRUNCATE kb_entries; UPDATE kb_state SET version = 0';

kbRepositoryContract('memory', async () => ({ repo: new MemoryKbRepository(), close: async () => {} }));

// One throwaway database per file (creating one per test costs seconds); each test starts empty.
let pgDb: Promise<{ db: TestDatabase; pool: pg.Pool }> | undefined;
kbRepositoryContract('PostgreSQL', async () => {
  pgDb ??= (async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query(kbMigration.sql);
    // The store runs migrations once, but a second run must be harmless (several processes boot).
    await pool.query(kbMigration.sql);
    return { db, pool };
  })();
  const { pool } = await pgDb;
  await pool.query(RESET);
  return { repo: new SqlKbRepository(sqlExecutorOf(pool)), close: async () => {} };
});

let lite: Promise<PGlite> | undefined;
kbRepositoryContract('PGlite', async () => {
  lite ??= PGlite.create().then(async (db) => {
    await db.exec(kbMigration.sql);
    return db;
  });
  const db = await lite;
  await db.exec(RESET);
  return { repo: new SqlKbRepository(sqlExecutorOf(db)), close: async () => {} };
});

afterAll(async () => {
  if (pgDb) {
    const { db, pool } = await pgDb;
    await pool.end();
    await db.drop();
  }
  if (lite) await (await lite).close();
});
