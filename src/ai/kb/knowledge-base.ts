/**
 * The knowledge base a running hub searches: one in-memory `CollectionIndex` per collection,
 * loaded from the repository and rebuilt when the repository's version moves (another process
 * ingested). Searches never wait for a rebuild: the new index replaces the old one when ready.
 */

import type { IndexOptions } from './collection-index.ts';
import { CollectionIndex, fingerprintOf } from './collection-index.ts';
import type { KbEmbedder } from './embedder.ts';
import type { KbRepository } from './repository.ts';
import type { KbEntry, SearchOptions, SearchResult } from './types.ts';
import type { VectorSearch, VectorSearchLogger } from './vector-search.ts';
import { chooseVectorSearch, memoryVectorSearch } from './vector-search.ts';

/** How to build a knowledge base. */
export interface KnowledgeBaseOptions {
  repository: KbRepository;
  /** Enables the vector retriever for collections whose entries carry this model's embeddings. */
  embedder?: KbEmbedder | null;
  index?: IndexOptions;
  /** Reports a failed background refresh (the previous index keeps serving). */
  onError?: (err: unknown) => void;
  /** Told once, at open, whether vectors are searched by pgvector or in memory. */
  logger?: VectorSearchLogger;
}

/** Searchable, hot-reloadable knowledge base. Create with `KnowledgeBase.open`. */
export class KnowledgeBase {
  private indexes = new Map<string, CollectionIndex>();
  private loadedVersion = -1;
  private reloading: Promise<boolean> | null = null;
  private vectorSearch: VectorSearch = memoryVectorSearch;

  private constructor(private readonly opts: KnowledgeBaseOptions) {}

  /** Load every collection from the repository and build its index. */
  static async open(opts: KnowledgeBaseOptions): Promise<KnowledgeBase> {
    const kb = new KnowledgeBase(opts);
    kb.vectorSearch = await chooseVectorSearch(opts.repository, opts.embedder, opts.logger);
    await kb.reload();
    return kb;
  }

  /** Repository version the in-memory index reflects. */
  get version(): number {
    return this.loadedVersion;
  }

  /** Where vector neighbours come from: `pgvector` (SQL) or `memory`. */
  get vectorSearchKind(): VectorSearch['kind'] {
    return this.vectorSearch.kind;
  }

  /** Collections currently loaded, sorted. */
  collections(): string[] {
    return [...this.indexes.keys()].sort();
  }

  /** The built index of one collection (the benchmark reads its build time). */
  index(collection: string): CollectionIndex | undefined {
    return this.indexes.get(collection);
  }

  /**
   * Best entries for `query`, best first, each with a confidence `score` in [0, 1] and the
   * retrievers (`via`) that found it. Without `collection`, every collection is searched and the
   * results are merged by score. An unknown collection yields no results.
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const top = options.top ?? 3;
    if (query.trim().length === 0 || top <= 0) return [];
    const targets =
      options.collection === undefined
        ? [...this.indexes.values()]
        : [this.indexes.get(options.collection)].filter((i): i is CollectionIndex => i !== undefined);
    const wantVector =
      this.opts.embedder &&
      targets.some((t) => t.wantsQueryVector) &&
      (!options.retrievers || options.retrievers.includes('vector'));
    const queryVector = wantVector ? await this.opts.embedder!.embedQuery(query) : null;
    const hits = await Promise.all(
      targets.map((t) =>
        queryVector && t.wantsQueryVector ? this.vectorSearch.nearest(t, queryVector, t.candidates) : null,
      ),
    );
    const results = targets.flatMap((t, i) => t.search(query, hits[i] ?? null, top, options.retrievers));
    if (targets.length === 1) return results;
    return results.sort((a, b) => b.score - a.score).slice(0, top);
  }

  /**
   * Rebuild from the repository now. Collections whose content did not change keep their index
   * (no retraining). Concurrent calls share one reload. Resolves true when anything changed.
   */
  reload(): Promise<boolean> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** Reload if the repository version moved since the last load: one cheap query otherwise. */
  async refresh(): Promise<boolean> {
    const version = await this.opts.repository.version();
    return version === this.loadedVersion ? false : this.reload();
  }

  /**
   * Poll the repository every `intervalMs` and pick up other processes' ingests. Returns a stop
   * function. The timer is unref'd so it never keeps a process alive on its own.
   */
  watch(intervalMs = 2000): () => void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.refresh()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          busy = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async doReload(): Promise<boolean> {
    // Version first: an ingest landing during the list bumps it again, so the next refresh
    // reloads rather than believing this (possibly older) snapshot is current.
    const version = await this.opts.repository.version();
    const entries = await this.opts.repository.list();
    const byCollection = new Map<string, KbEntry[]>();
    for (const e of entries) {
      let list = byCollection.get(e.collection);
      if (!list) {
        list = [];
        byCollection.set(e.collection, list);
      }
      list.push(e);
    }
    const next = new Map<string, CollectionIndex>();
    let changed = byCollection.size !== this.indexes.size;
    for (const [name, list] of byCollection) {
      const current = this.indexes.get(name);
      const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (current && current.fingerprint === fingerprintOf(sorted)) {
        next.set(name, current);
        continue;
      }
      changed = true;
      // Yield between collections so a big rebuild does not starve the event loop for its whole length.
      await new Promise((resolve) => setImmediate(resolve));
      next.set(name, new CollectionIndex(this.usableEntries(sorted), this.opts.index));
    }
    this.indexes = next;
    this.loadedVersion = version;
    return changed;
  }

  /** Embeddings of another model (or none configured) cannot be compared with query vectors. */
  private usableEntries(entries: KbEntry[]): KbEntry[] {
    const model = this.opts.embedder?.model;
    return entries.map((e) => (e.embedding && e.embeddingModel === model ? e : { ...e, embedding: null }));
  }
}
