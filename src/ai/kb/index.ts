/**
 * The local knowledge base: ingest FAQ files and documents, search them with BM25, a
 * self-trained intent model and optional embeddings, hot-reload on another process's ingest.
 * See docs/knowledge-base.md.
 */

export type { IngestPathOptions, SearchLinesOptions } from './cli.ts';
export { formatIngestReport, ingestPath, queriesFromText, searchToJsonLines } from './cli.ts';
export type { IndexOptions } from './collection-index.ts';
export type { KbConfig, KbEmbeddingsConfig } from './config.ts';
export { kbConfigSchema, kbEmbeddingsConfigSchema } from './config.ts';
export type { KbEmbedder } from './embedder.ts';
export { createOpenAIEmbedder } from './embedder.ts';
export type { IngestOptions } from './ingest.ts';
export { ingest } from './ingest.ts';
export type { KnowledgeBaseOptions } from './knowledge-base.ts';
export { KnowledgeBase } from './knowledge-base.ts';
export { kbMigration } from './migration.ts';
export type { KbChanges, KbFilter, KbRepository } from './repository.ts';
export { MemoryKbRepository } from './repository.ts';
export type { Queryable, SqlExecutor } from './sql-repository.ts';
export { SqlKbRepository, sqlExecutorOf } from './sql-repository.ts';
export type { IngestIssue, IngestReport, KbEntry, Retriever, SearchOptions, SearchResult } from './types.ts';
export { formatIngestIssue } from './types.ts';
