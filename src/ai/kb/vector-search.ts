/**
 * Where the vector retriever's nearest neighbours come from, behind one interface so the
 * knowledge base does not care: pgvector in SQL when the store has the vector column (migration
 * 4 found the extension), else the in-memory cosine scan of each collection's index.
 */
import type { KbEmbedder } from './embedder.ts';
import type { KbRepository } from './repository.ts';
import { isKbVectorStore } from './repository.ts';
import type { VectorHit } from './vector-index.ts';

/** What a vector search needs of a collection's index. */
export interface VectorSearchTarget {
  readonly collection: string;
  /** Entry index of an id, for hits the store reports by id. */
  entryIndexOf(id: string): number | undefined;
  /** The in-memory cosine scan. */
  nearestInMemory(query: readonly number[], top: number): VectorHit[];
}

export interface VectorSearch {
  /** `pgvector`: `<=>` in SQL; `memory`: brute-force cosine in process. */
  readonly kind: 'pgvector' | 'memory';
  nearest(target: VectorSearchTarget, query: readonly number[], top: number): Promise<VectorHit[]>;
}

/** Pino-compatible: the one line saying which search is used. */
export interface VectorSearchLogger {
  info(obj: object, msg: string): void;
}

export const memoryVectorSearch: VectorSearch = {
  kind: 'memory',
  nearest: async (target, query, top) => target.nearestInMemory(query, top),
};

/**
 * pgvector when an embedder is configured and the repository holds the vector column; else in
 * memory. Logged once per knowledge base, since it changes latency and memory use.
 */
export async function chooseVectorSearch(
  repository: KbRepository,
  embedder: KbEmbedder | null | undefined,
  logger?: VectorSearchLogger,
): Promise<VectorSearch> {
  if (!embedder) return memoryVectorSearch;
  if (!isKbVectorStore(repository) || !(await repository.vectorSearchAvailable())) {
    logger?.info(
      { vectorSearch: 'memory', model: embedder.model },
      'kb vector search: in-memory cosine (the store has no pgvector column)',
    );
    return memoryVectorSearch;
  }
  const store = repository;
  const model = embedder.model;
  logger?.info({ vectorSearch: 'pgvector', model }, 'kb vector search: pgvector in SQL');
  return {
    kind: 'pgvector',
    async nearest(target, query, top) {
      const rows = await store.nearest({ collection: target.collection, model, vector: query, top });
      // Ids the loaded index does not know yet (an ingest not reloaded) cannot be returned.
      return rows.flatMap((r) => {
        const entry = target.entryIndexOf(r.id);
        return entry === undefined ? [] : [{ entry, cosine: r.cosine }];
      });
    },
  };
}
