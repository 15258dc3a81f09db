/**
 * A database without the vector extension (here PGlite without it loaded, as a PostgreSQL
 * without pgvector looks): the migration must still succeed and the knowledge base keeps its
 * in-memory cosine search.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { KnowledgeBase } from '../../../src/ai/kb/knowledge-base.ts';
import { kbMigration, kbVectorMigration } from '../../../src/ai/kb/migration.ts';
import { SqlKbRepository, sqlExecutorOf } from '../../../src/ai/kb/sql-repository.ts';
import { fakeEmbedder } from './fake-embedder.ts';

let db: PGlite;
let dir: string;
beforeAll(async () => {
  db = await PGlite.create();
  dir = await mkdtemp(join(tmpdir(), 'kb-novector-'));
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

it('migrates without pgvector and searches vectors in memory, logging which path it took', async () => {
  await db.exec(kbMigration.sql);
  await db.exec(kbVectorMigration.sql);
  const { rows } = await db.query(
    "SELECT 1 FROM pg_attribute WHERE attrelid = 'kb_entries'::regclass AND attname = 'embedding_vec'",
  );
  expect(rows).toEqual([]);

  await writeFile(
    join(dir, 'faq.csv'),
    'id,question,answer\nt,Where is my package?,Track it\nr,Refund?,3 days\n',
  );
  const repository = new SqlKbRepository(sqlExecutorOf(db));
  const embedder = fakeEmbedder();
  await ingest(dir, { repository, embedder });
  const logged: string[] = [];
  const kb = await KnowledgeBase.open({
    repository,
    embedder,
    logger: { info: (_o, msg) => logged.push(msg) },
  });
  expect(kb.vectorSearchKind).toBe('memory');
  expect(logged).toEqual(['kb vector search: in-memory cosine (the store has no pgvector column)']);
  expect((await kb.search('parcel', { retrievers: ['bm25', 'vector'] }))[0]).toMatchObject({
    id: 't',
    via: ['vector'],
  });
});
