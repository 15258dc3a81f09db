/**
 * Vector search in SQL: pgvector on the real PostgreSQL and the vector extension in PGlite, both
 * through `openStore` (so its migrations and PGlite's extension loading are what is tested). The
 * SQL path must rank and fuse exactly like the in-memory cosine path it replaces.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../../src/ai/kb/ingest.ts';
import { KnowledgeBase } from '../../../src/ai/kb/knowledge-base.ts';
import { MemoryKbRepository } from '../../../src/ai/kb/repository.ts';
import { SqlKbRepository } from '../../../src/ai/kb/sql-repository.ts';
import type { Executor } from '../../../src/store/executor.ts';
import { openStore } from '../../../src/store/open-store.ts';
import type { SqlStore } from '../../../src/store/sql-store.ts';
import { createTestDatabase, testServerUrl } from '../../helpers/pg.ts';
import { fakeEmbedder } from './fake-embedder.ts';

const FAQ = `id,question,answer,similar
t,Where is my package?,Track it in My Orders,track my package|package status
r,Refund?,3 days,money back|when do I get my money
i,Can I get an invoice?,Under My Orders > Invoice,need a receipt|VAT invoice
p,I forgot my password,Use the reset link,reset password|cannot log in
`;
const OTHER = 'id,question,answer\nx,Package delivery times,2-3 days\n';
const QUERIES = ['where is my package', 'parcel', 'I want my money back', 'invoice please', 'password'];

/** A store opened by `openStore` plus how to throw it away. */
interface Opened {
  db: Executor;
  close(): Promise<void>;
}

/** Whether the machine's PostgreSQL offers pgvector (Debian 12 ships it only from the PGDG archive). */
async function serverHasVector(): Promise<boolean> {
  const server = new pg.Client({ connectionString: testServerUrl() });
  await server.connect();
  try {
    const { rows } = await server.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
    return rows.length > 0;
  } finally {
    await server.end();
  }
}

async function openPg(dataDir: string): Promise<Opened> {
  const test = await createTestDatabase();
  const store = (await openStore({ databaseUrl: test.url, dataDir })) as SqlStore;
  return {
    db: store.db,
    async close() {
      await store.close();
      await test.drop();
    },
  };
}

async function openPglite(dataDir: string): Promise<Opened> {
  const store = (await openStore({ dataDir })) as SqlStore;
  return { db: store.db, close: () => store.close() };
}

describe.each([['PGlite + vector', openPglite]])('vector search in SQL on %s', (_name, open) => {
  const embedder = fakeEmbedder();
  const statements: string[] = [];
  const logged: string[] = [];
  let dir: string;
  let opened: Opened | undefined;
  let repo: SqlKbRepository;
  let kb: KnowledgeBase;
  let reference: KnowledgeBase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kb-pgvector-'));
    opened = await open(join(dir, 'data'));
    const db = opened.db;
    // Every statement the repository sends, to see which search path answered.
    repo = new SqlKbRepository({
      query: <T>(sql: string, params?: unknown[]) => {
        statements.push(sql);
        return db.query(sql, params) as Promise<T[]>;
      },
    });
    await writeFile(join(dir, 'faq.csv'), FAQ);
    await writeFile(join(dir, 'other.csv'), OTHER);
    await ingest(join(dir, 'faq.csv'), { repository: repo, embedder });
    await ingest(join(dir, 'other.csv'), { repository: repo, embedder, collection: 'other' });
    kb = await KnowledgeBase.open({
      repository: repo,
      embedder,
      logger: { info: (_obj, msg) => logged.push(msg) },
    });
    // The same entries in memory: the in-memory cosine path every answer is compared with.
    const memory = new MemoryKbRepository();
    for (const collection of ['default', 'other']) {
      await memory.apply({ collection, upsert: await repo.list({ collection }), remove: [] });
    }
    reference = await KnowledgeBase.open({ repository: memory, embedder });
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('migrates to a pgvector column, picks the SQL path and says so once', async () => {
    const [column] = await opened!.db.query<{ type: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = 'kb_entries'::regclass AND attname = 'embedding_vec'`,
    );
    expect(column?.type).toBe('vector');
    expect(kb.vectorSearchKind).toBe('pgvector');
    expect(reference.vectorSearchKind).toBe('memory');
    expect(logged).toEqual(['kb vector search: pgvector in SQL']);
  });

  it('answers a nearest-neighbour query through `<=>` in SQL', async () => {
    statements.length = 0;
    const results = await kb.search('parcel', { retrievers: ['bm25', 'vector'], collection: 'default' });
    expect(results[0]).toMatchObject({ id: 't', via: ['vector'] });
    expect(statements.filter((s) => s.includes('<=>'))).toHaveLength(1);
  });

  it('returns the cosines of the in-memory path, best first, within one collection', async () => {
    const vector = await embedder.embedQuery('parcel');
    const sql = await repo.nearest({ collection: 'default', model: embedder.model, vector, top: 10 });
    const memory = reference.index('default')!.nearestInMemory(vector, 10);
    const entries = reference.index('default')!.entries;
    expect(sql.map((h) => h.id)).toEqual(memory.map((h) => entries[h.entry]!.id));
    for (const [i, h] of sql.entries()) expect(h.cosine).toBeCloseTo(memory[i]!.cosine, 5);
    // Another model's vectors are never compared with this one's.
    expect(await repo.nearest({ collection: 'default', model: 'other-model', vector, top: 10 })).toEqual([]);
    const [other] = await kb.search('parcel', { retrievers: ['vector'], collection: 'other' });
    expect(other?.id).toBe('x');
  });

  it('fuses BM25, the intent model and SQL vectors exactly as with in-memory vectors', async () => {
    const [top] = await kb.search('where is my package', { collection: 'default' });
    expect(top?.id).toBe('t');
    expect(top?.via).toEqual(expect.arrayContaining(['bm25', 'intent', 'vector']));
    for (const query of QUERIES) {
      const got = await kb.search(query, { top: 4 });
      const want = await reference.search(query, { top: 4 });
      expect(got.map((r) => [r.id, r.via])).toEqual(want.map((r) => [r.id, r.via]));
      for (const [i, r] of got.entries()) expect(r.score).toBeCloseTo(want[i]!.score, 3);
    }
  });
});

/**
 * The machine's PostgreSQL: the same migrations and search run there. With pgvector installed the
 * KB searches in SQL (the suite above, on PGlite, pins that path's behaviour); without it the
 * migration still succeeds and the KB keeps its in-memory index — and answers the same either way.
 */
describe("vector search on the machine's PostgreSQL", () => {
  it('picks pgvector exactly when the server offers it, and ranks like the in-memory path', async () => {
    const available = await serverHasVector();
    const dir = await mkdtemp(join(tmpdir(), 'kb-pgvector-pg-'));
    const opened = await openPg(join(dir, 'data'));
    try {
      const embedder = fakeEmbedder();
      const repo = new SqlKbRepository({
        query: <T>(sql: string, params?: unknown[]) => opened.db.query(sql, params) as Promise<T[]>,
      });
      await writeFile(join(dir, 'faq.csv'), FAQ);
      await ingest(join(dir, 'faq.csv'), { repository: repo, embedder });
      const kb = await KnowledgeBase.open({ repository: repo, embedder });
      expect(kb.vectorSearchKind).toBe(available ? 'pgvector' : 'memory');
      const memory = new MemoryKbRepository();
      await memory.apply({
        collection: 'default',
        upsert: await repo.list({ collection: 'default' }),
        remove: [],
      });
      const reference = await KnowledgeBase.open({ repository: memory, embedder });
      for (const query of QUERIES) {
        const got = await kb.search(query, { top: 4 });
        const want = await reference.search(query, { top: 4 });
        expect(got.map((r) => [r.id, r.via])).toEqual(want.map((r) => [r.id, r.via]));
      }
    } finally {
      await opened.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
