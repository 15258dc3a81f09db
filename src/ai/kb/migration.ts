/**
 * Tables of the knowledge base, appended to the store's migration list by the lead (the store
 * runs it once, in order, on PostgreSQL and PGlite alike). Embeddings are a plain `real[]`
 * rather than a pgvector column: search happens on an in-memory index, so the database only has
 * to keep the numbers, and the table works on a PostgreSQL without the vector extension.
 * Where pgvector exists, `kbVectorMigration` below adds a vector column searched in SQL.
 */
export const kbMigration = {
  version: 2,
  name: 'kb',
  sql: `
CREATE TABLE IF NOT EXISTS kb_entries (
  collection      text        NOT NULL,
  id              text        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('faq', 'passage')),
  question        text        NOT NULL,
  similar_questions jsonb       NOT NULL DEFAULT '[]'::jsonb,
  answer          text        NOT NULL,
  tags            jsonb       NOT NULL DEFAULT '[]'::jsonb,
  source          text        NOT NULL,
  content_hash    text        NOT NULL,
  embedding       real[],
  embedding_model text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS kb_entries_source_idx ON kb_entries (collection, source);
-- One row: bumped by every ingest so running hubs notice a change with one cheap read.
CREATE TABLE IF NOT EXISTS kb_state (
  id      smallint PRIMARY KEY CHECK (id = 1),
  version bigint   NOT NULL
);
INSERT INTO kb_state (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
`,
} as const;

/**
 * pgvector for the vector retriever (version 4): `embedding_vec` mirrors `embedding` as a
 * generated column, so every writer (ingest, an older hub) keeps both in step and rows stored
 * before this migration are converted by the ALTER itself. Only where the extension exists: on a
 * PostgreSQL without pgvector (or a role that may not create it) this is a no-op, the column is
 * absent and the knowledge base keeps its in-memory cosine search. No ANN index: the column has
 * no fixed dimension (models differ per collection), and an exact scan of one collection is
 * fast at knowledge-base sizes.
 */
export const kbVectorMigration = {
  version: 4,
  name: 'kb-pgvector',
  sql: `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    RAISE NOTICE 'kb: extension "vector" not available; vector search stays in memory';
    RETURN;
  END IF;
  BEGIN
    CREATE EXTENSION IF NOT EXISTS vector;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'kb: cannot create extension "vector" (%); vector search stays in memory', SQLERRM;
    RETURN;
  END;
  -- EXECUTE: the type "vector" only exists once the extension does. The CASE leaves NULL what
  -- pgvector would reject (empty, NaN, infinite, too long), so an odd embedding never fails an ingest.
  EXECUTE $ddl$
    ALTER TABLE kb_entries ADD COLUMN IF NOT EXISTS embedding_vec vector GENERATED ALWAYS AS (
      CASE WHEN cardinality(embedding) BETWEEN 1 AND 16000
            AND NOT ('NaN' = ANY (embedding) OR 'Infinity' = ANY (embedding) OR '-Infinity' = ANY (embedding))
      THEN embedding::vector END) STORED
  $ddl$;
END
$$;
`,
} as const;
