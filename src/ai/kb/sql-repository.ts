/**
 * `KbRepository` in SQL, over whatever executor the store hands out (pg pool or PGlite). The
 * tables come from migration.ts. Every change is one statement (CTEs), so it is atomic without
 * needing a transaction handle from the executor.
 */
import type { KbChanges, KbFilter, KbNearest, KbRepository, KbVectorStore } from './repository.ts';
import type { KbEntry } from './types.ts';

/** The store's generic SQL executor: positional `$n` parameters, rows back. */
export interface SqlExecutor {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** Anything with pg's `query(sql, params) → { rows }`: a `pg.Pool`, a `pg.Client`, a PGlite database. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Adapt a pg pool/client or a PGlite instance to `SqlExecutor`. */
export function sqlExecutorOf(db: Queryable): SqlExecutor {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      return (await db.query(sql, params ?? [])).rows as T[];
    },
  };
}

interface EntryRow {
  collection: string;
  id: string;
  kind: KbEntry['kind'];
  question: string;
  similar_questions: string[];
  answer: string;
  tags: string[];
  source: string;
  content_hash: string;
  embedding: number[] | null;
  embedding_model: string | null;
}

const COLUMNS =
  'collection, id, kind, question, similar_questions, answer, tags, source, content_hash, embedding, embedding_model';

const APPLY_SQL = `
WITH removed AS (
  DELETE FROM kb_entries WHERE collection = $1 AND id = ANY($2::text[])
), upserted AS (
  INSERT INTO kb_entries (${COLUMNS}, updated_at)
  SELECT $1, x.id, x.kind, x.question, x.similar_questions, x.answer, x.tags, x.source, x.content_hash,
         x.embedding, x.embedding_model, now()
  FROM jsonb_to_recordset($3::jsonb) AS x(
    id text, kind text, question text, similar_questions jsonb, answer text, tags jsonb, source text,
    content_hash text, embedding real[], embedding_model text)
  ON CONFLICT (collection, id) DO UPDATE SET
    kind = EXCLUDED.kind, question = EXCLUDED.question, similar_questions = EXCLUDED.similar_questions,
    answer = EXCLUDED.answer, tags = EXCLUDED.tags, source = EXCLUDED.source,
    content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding,
    embedding_model = EXCLUDED.embedding_model, updated_at = now()
)
UPDATE kb_state SET version = version + 1 WHERE id = 1 RETURNING version`;

// Cosine distance `<=>` of pgvector; rows of another model or dimension are left out because
// comparing them with the query is meaningless (and pgvector rejects mixed dimensions).
const NEAREST_SQL = `
SELECT id, 1 - (embedding_vec <=> $3::vector) AS cosine
FROM kb_entries
WHERE collection = $1 AND embedding_model = $2 AND embedding_vec IS NOT NULL
  AND vector_dims(embedding_vec) = $4
ORDER BY embedding_vec <=> $3::vector, id COLLATE "C"
LIMIT $5`;

/** `KbRepository` on the hub's PostgreSQL (or PGlite) store; searches vectors in SQL where pgvector is. */
export class SqlKbRepository implements KbRepository, KbVectorStore {
  private hasVectorColumn: Promise<boolean> | null = null;

  constructor(private readonly sql: SqlExecutor) {}

  /** True once migration 4 added `embedding_vec` (the extension was available). Asked once. */
  vectorSearchAvailable(): Promise<boolean> {
    this.hasVectorColumn ??= this.sql
      .query<{ ok: number }>(
        `SELECT 1 AS ok FROM pg_attribute
         WHERE attrelid = to_regclass('kb_entries') AND attname = 'embedding_vec' AND NOT attisdropped`,
      )
      .then((rows) => rows.length > 0)
      .catch((err: unknown) => {
        this.hasVectorColumn = null; // a failed look-up is asked again next time
        throw err;
      });
    return this.hasVectorColumn;
  }

  async nearest(q: {
    collection: string;
    model: string;
    vector: readonly number[];
    top: number;
  }): Promise<KbNearest[]> {
    // pgvector rejects empty and non-finite vectors; such a query matches nothing in memory either.
    if (q.vector.length === 0 || q.top <= 0 || !q.vector.every(Number.isFinite)) return [];
    const rows = await this.sql.query<{ id: string; cosine: number | string | null }>(NEAREST_SQL, [
      q.collection,
      q.model,
      JSON.stringify(q.vector),
      q.vector.length,
      q.top,
    ]);
    // A zero vector has no direction: pgvector says NaN, the in-memory index says 0.
    return rows.map((r) => ({ id: r.id, cosine: Number.isFinite(Number(r.cosine)) ? Number(r.cosine) : 0 }));
  }

  async list(filter: KbFilter = {}): Promise<KbEntry[]> {
    const rows = await this.sql.query<EntryRow>(
      `SELECT ${COLUMNS} FROM kb_entries
       WHERE ($1::text IS NULL OR collection = $1) AND ($2::text IS NULL OR source = $2)
       ORDER BY collection COLLATE "C", source COLLATE "C", id COLLATE "C"`,
      [filter.collection ?? null, filter.source ?? null],
    );
    return rows.map((r) => ({
      collection: r.collection,
      id: r.id,
      kind: r.kind,
      question: r.question,
      similar: r.similar_questions,
      answer: r.answer,
      tags: r.tags,
      source: r.source,
      contentHash: r.content_hash,
      embedding: r.embedding === null ? null : r.embedding.map(Number),
      embeddingModel: r.embedding_model,
    }));
  }

  async apply(changes: KbChanges): Promise<number> {
    const payload = changes.upsert.map((e) => ({
      id: e.id,
      kind: e.kind,
      question: e.question,
      similar_questions: e.similar,
      answer: e.answer,
      tags: e.tags,
      source: e.source,
      content_hash: e.contentHash,
      embedding: e.embedding,
      embedding_model: e.embeddingModel,
    }));
    const rows = await this.sql.query<{ version: string | number }>(APPLY_SQL, [
      changes.collection,
      changes.remove,
      JSON.stringify(payload),
    ]);
    return Number(rows[0]?.version ?? 0);
  }

  async version(): Promise<number> {
    const rows = await this.sql.query<{ version: string | number }>(
      'SELECT version FROM kb_state WHERE id = 1',
    );
    return Number(rows[0]?.version ?? 0);
  }
}
