/**
 * The in-memory search index of one collection: BM25F over all entries, the intent model over
 * the FAQ entries (question + similar questions as labelled examples, one class per entry), and
 * the entries' embeddings when there are any. Built once per (re)load; `search` is synchronous
 * apart from the query embedding, which the caller passes in.
 */
import { createHash } from 'node:crypto';
import type { Bm25Options } from './bm25.ts';
import { Bm25Index } from './bm25.ts';
import type { FeatureOptions } from './features.ts';
import { TfidfVectorizer } from './features.ts';
import type { FusionOptions, RankedCandidate } from './fusion.ts';
import { DEFAULT_FUSION_OPTIONS, fuse } from './fusion.ts';
import type { IntentModelOptions } from './intent-model.ts';
import { IntentModel } from './intent-model.ts';
import type { KbEntry, Retriever, SearchResult } from './types.ts';
import type { VectorHit } from './vector-index.ts';
import { VectorIndex } from './vector-index.ts';
import type { VectorSearchTarget } from './vector-search.ts';

/** Tuning of every retriever; all optional, defaults come from each module. */
export interface IndexOptions {
  features?: Partial<FeatureOptions>;
  intent?: Partial<IntentModelOptions>;
  bm25?: Partial<Bm25Options>;
  fusion?: Partial<FusionOptions>;
  /** Candidates each retriever contributes to fusion. */
  candidates?: number;
}

/** Confidence factor left for a question none of whose content words the model knows. */
const UNKNOWN_FLOOR = 0.2;

interface IntentPart {
  vectorizer: TfidfVectorizer;
  model: IntentModel;
  /** Entry index of each class. */
  classEntry: number[];
}

/** Fingerprint of a collection's content: equal fingerprints ⇒ the index can be reused. */
export function fingerprintOf(entries: readonly KbEntry[]): string {
  const h = createHash('sha256');
  for (const e of entries) h.update(`${e.id}\u0000${e.contentHash}\u0000${e.embeddingModel ?? ''}\n`);
  return h.digest('base64url');
}

/** A built, immutable index of one collection. */
export class CollectionIndex implements VectorSearchTarget {
  readonly entries: readonly KbEntry[];
  /** Name of the collection ('' for an empty index). */
  readonly collection: string;
  /** Candidates each retriever contributes to fusion (the vector search asks for this many). */
  readonly candidates: number;
  readonly fingerprint: string;
  /** Which retrievers this collection has (no intent model without at least two FAQ entries). */
  readonly retrievers: readonly Retriever[];
  /** Milliseconds the build took, for logs and the benchmark. */
  readonly buildMs: number;
  private readonly bm25: Bm25Index;
  private readonly intent: IntentPart | null;
  private readonly hasVectors: boolean;
  /** Built on the first in-memory vector search: with pgvector the floats are never scanned here. */
  private vectors: VectorIndex | null = null;
  private readonly fusion: FusionOptions;
  private readonly entryIndex: Map<string, number>;

  constructor(entries: readonly KbEntry[], options: IndexOptions = {}) {
    const started = performance.now();
    // Sorted by id in code, not by the database's collation, so training order (and thus the
    // model) is identical whichever store the entries came from.
    this.entries = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.fingerprint = fingerprintOf(this.entries);
    this.collection = this.entries[0]?.collection ?? '';
    this.entryIndex = new Map(this.entries.map((e, i) => [e.id, i]));
    this.fusion = {
      ...DEFAULT_FUSION_OPTIONS,
      ...options.fusion,
      weights: { ...DEFAULT_FUSION_OPTIONS.weights, ...options.fusion?.weights },
      floor: { ...DEFAULT_FUSION_OPTIONS.floor, ...options.fusion?.floor },
    };
    this.candidates = options.candidates ?? 20;
    this.bm25 = new Bm25Index(
      this.entries.map((e) => ({ questions: [e.question, ...e.similar], answer: e.answer })),
      options.bm25,
    );
    this.intent = buildIntent(this.entries, options);
    this.hasVectors = this.entries.some((e) => (e.embedding?.length ?? 0) > 0);
    this.retrievers = [
      'bm25' as const,
      ...(this.intent ? (['intent'] as const) : []),
      ...(this.hasVectors ? (['vector'] as const) : []),
    ];
    this.buildMs = performance.now() - started;
  }

  /** Whether queries should be embedded for this collection. */
  get wantsQueryVector(): boolean {
    return this.hasVectors;
  }

  entryIndexOf(id: string): number | undefined {
    return this.entryIndex.get(id);
  }

  nearestInMemory(query: readonly number[], top: number): VectorHit[] {
    if (!this.hasVectors) return [];
    this.vectors ??= new VectorIndex(this.entries.map((e) => e.embedding));
    return this.vectors.search(query, top);
  }

  /**
   * Fused results for `query`; `vectorHits` (the query's nearest entries, from pgvector or
   * `nearestInMemory`) are used when this collection has embeddings.
   */
  search(
    query: string,
    vectorHits: readonly VectorHit[] | null,
    top: number,
    only?: readonly Retriever[],
  ): SearchResult[] {
    const use = (r: Retriever) => this.retrievers.includes(r) && (!only || only.includes(r));
    const lists: Partial<Record<Retriever, RankedCandidate[]>> = {};
    const n = this.candidates;
    if (use('bm25')) {
      lists.bm25 = this.bm25.search(query, n).map((h) => ({ entry: h.doc, confidence: h.coverage }));
    }
    if (use('intent') && this.intent) {
      const { vectorizer, model, classEntry } = this.intent;
      const probs = model.predict(vectorizer.transform(query));
      // The ranking is the model's; the confidence is damped when the question's content words
      // were never seen, so an off-topic question does not borrow certainty from its phrasing.
      const damp = UNKNOWN_FLOOR + (1 - UNKNOWN_FLOOR) * vectorizer.knownShare(query);
      lists.intent = [...probs.keys()]
        .sort((a, b) => probs[b]! - probs[a]! || a - b)
        .slice(0, n)
        .map((c) => ({ entry: classEntry[c]!, confidence: probs[c]! * damp }));
    }
    if (use('vector') && vectorHits) {
      lists.vector = vectorHits.slice(0, n).map((h) => ({ entry: h.entry, confidence: h.cosine }));
    }
    return fuse(lists, top, this.fusion).map((f) => {
      const e = this.entries[f.entry]!;
      return {
        id: e.id,
        score: f.score,
        question: e.question,
        answer: e.answer,
        source: e.source,
        tags: e.tags,
        collection: e.collection,
        kind: e.kind,
        via: f.via,
      };
    });
  }
}

function buildIntent(entries: readonly KbEntry[], options: IndexOptions): IntentPart | null {
  const classEntry: number[] = [];
  const texts: string[] = [];
  const labels: number[] = [];
  entries.forEach((e, i) => {
    if (e.kind !== 'faq') return;
    const label = classEntry.length;
    classEntry.push(i);
    for (const text of [e.question, ...e.similar]) {
      texts.push(text);
      labels.push(label);
    }
  });
  // One class is no classifier; BM25 (and vectors) handle such a collection alone.
  if (classEntry.length < 2) return null;
  const { vectorizer, vectors } = TfidfVectorizer.fitTransform(texts, options.features);
  const examples = vectors.map((x, i) => ({ x, label: labels[i]! }));
  const model = IntentModel.train(examples, vectorizer.size, classEntry.length, options.intent);
  return { vectorizer, model, classEntry };
}
