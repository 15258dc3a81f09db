/**
 * The knowledge base's persistence port. The hub's store owns the database; the knowledge base
 * only needs this much of it, so it is defined here and implemented twice: in SQL over the store's
 * executor (sql-repository.ts) and in memory (tests, benchmarks, a hub without a database).
 */
import type { KbEntry } from './types.ts';

/** Which entries to list; omitted fields do not filter. */
export interface KbFilter {
  collection?: string;
  source?: string;
}

/** A set of changes applied atomically; `remove` holds entry ids of `collection`. */
export interface KbChanges {
  collection: string;
  upsert: KbEntry[];
  remove: string[];
}

/** Storage of knowledge-base entries plus a version counter that every change bumps. */
export interface KbRepository {
  /** Entries matching the filter, ordered by collection, source and id. */
  list(filter?: KbFilter): Promise<KbEntry[]>;
  /**
   * Upsert and remove in one atomic step and bump the version, so a process that polls
   * `version()` never loads half an ingest. Returns the new version.
   */
  apply(changes: KbChanges): Promise<number>;
  /** Current version: cheap, so running hubs can poll it every few seconds. */
  version(): Promise<number>;
}

/** One nearest-neighbour hit of a store-side vector search: entry id and cosine similarity. */
export interface KbNearest {
  id: string;
  cosine: number;
}

/**
 * Optional capability of a repository: nearest neighbours computed by the database (pgvector),
 * so the hub need not scan embeddings in memory. Checked with `isKbVectorStore`.
 */
export interface KbVectorStore {
  /** Whether the store holds searchable vectors (the pgvector column exists). */
  vectorSearchAvailable(): Promise<boolean>;
  /** The `top` entries of `collection` embedded by `model` closest to `vector` by cosine, best first. */
  nearest(query: {
    collection: string;
    model: string;
    vector: readonly number[];
    top: number;
  }): Promise<KbNearest[]>;
}

export function isKbVectorStore(repo: KbRepository): repo is KbRepository & KbVectorStore {
  const r = repo as Partial<KbVectorStore>;
  return typeof r.vectorSearchAvailable === 'function' && typeof r.nearest === 'function';
}

/** A repository in process memory. Versions are per instance. */
export class MemoryKbRepository implements KbRepository {
  private readonly entries = new Map<string, KbEntry>();
  private counter = 0;

  async list(filter: KbFilter = {}): Promise<KbEntry[]> {
    return [...this.entries.values()]
      .filter((e) => filter.collection === undefined || e.collection === filter.collection)
      .filter((e) => filter.source === undefined || e.source === filter.source)
      .sort((a, b) => cmp(a.collection, b.collection) || cmp(a.source, b.source) || cmp(a.id, b.id))
      .map((e) => structuredClone(e));
  }

  async apply(changes: KbChanges): Promise<number> {
    for (const id of changes.remove) this.entries.delete(key(changes.collection, id));
    for (const e of changes.upsert)
      this.entries.set(
        key(changes.collection, e.id),
        structuredClone({ ...e, collection: changes.collection }),
      );
    return ++this.counter;
  }

  async version(): Promise<number> {
    return this.counter;
  }
}

function key(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
