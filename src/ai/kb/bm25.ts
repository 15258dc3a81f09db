/**
 * BM25F over the entries of one collection. An entry is one document with two fields: its
 * question plus similar questions (full weight) and its answer (lower weight, so an answer that
 * merely mentions "refund" does not outrank the refund question itself).
 */
import { tokenize } from './tokenize.ts';

/** A document to index: `questions` are the question and its paraphrases, `answer` the answer text. */
export interface Bm25Document {
  questions: readonly string[];
  answer: string;
}

/** Tuning knobs; the defaults are the textbook values plus the answer-field weight. */
export interface Bm25Options {
  k1: number;
  b: number;
  answerWeight: number;
}

export const DEFAULT_BM25_OPTIONS: Bm25Options = { k1: 1.2, b: 0.75, answerWeight: 0.3 };

/** One scored document; `coverage` is `score` over the best score the query could reach (0…1). */
export interface Hit {
  doc: number;
  score: number;
  coverage: number;
}

interface Posting {
  docs: number[];
  tfs: number[];
}

/** An immutable BM25F index; build once per (re)load, query many times. */
export class Bm25Index {
  private readonly postings = new Map<string, { docs: Int32Array; weights: Float32Array; idf: number }>();
  private readonly k1: number;
  /** IDF of a term no document has: what an unknown query word would have been worth. */
  private readonly unseenIdf: number;

  constructor(documents: readonly Bm25Document[], options: Partial<Bm25Options> = {}) {
    const opts = { ...DEFAULT_BM25_OPTIONS, ...options };
    const n = documents.length;
    this.k1 = opts.k1;
    this.unseenIdf = Math.log(1 + (n + 0.5) / 0.5);
    const lengths = new Float64Array(n);
    const raw = new Map<string, Posting>();
    documents.forEach((doc, d) => {
      const tf = new Map<string, number>();
      const add = (text: string, weight: number) => {
        for (const term of tokenize(text, { stopWords: true })) {
          tf.set(term, (tf.get(term) ?? 0) + weight);
          lengths[d]! += weight;
        }
      };
      for (const q of doc.questions) add(q, 1);
      add(doc.answer, opts.answerWeight);
      for (const [term, f] of tf) {
        let p = raw.get(term);
        if (!p) {
          p = { docs: [], tfs: [] };
          raw.set(term, p);
        }
        p.docs.push(d);
        p.tfs.push(f);
      }
    });
    let avg = 0;
    for (const l of lengths) avg += l;
    avg = n > 0 ? avg / n || 1 : 1;
    for (const [term, p] of raw) {
      const df = p.docs.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      // The saturated term weight does not depend on the query, so it is computed here once.
      const weights = Float32Array.from(p.tfs, (f, i) => {
        const norm = opts.k1 * (1 - opts.b + (opts.b * lengths[p.docs[i]!]!) / avg);
        return (idf * f * (opts.k1 + 1)) / (f + norm);
      });
      this.postings.set(term, { docs: Int32Array.from(p.docs), weights, idf });
    }
    this.size = n;
  }

  /** Number of indexed documents. */
  readonly size: number;

  /**
   * The `top` best documents for `query`, best first; documents sharing no term are not returned.
   * Coverage divides by the score of a document that matched every query term at saturation,
   * counting unknown words at the highest IDF, so "refund" alone covers well and "refund for my
   * spaceship" does not.
   */
  search(query: string, top: number): Hit[] {
    const scores = new Map<number, number>();
    let ceiling = 0;
    for (const term of tokenize(query, { stopWords: true })) {
      const p = this.postings.get(term);
      ceiling += (p?.idf ?? this.unseenIdf) * (this.k1 + 1);
      if (!p) continue;
      for (let i = 0; i < p.docs.length; i++) {
        const d = p.docs[i]!;
        scores.set(d, (scores.get(d) ?? 0) + p.weights[i]!);
      }
    }
    return topHits(scores, top).map((h) => ({
      ...h,
      coverage: ceiling > 0 ? Math.min(1, h.score / ceiling) : 0,
    }));
  }
}

/** Highest scores first, ties broken by document order so results are deterministic. */
export function topHits(scores: Map<number, number>, top: number): { doc: number; score: number }[] {
  return [...scores.entries()]
    .map(([doc, score]) => ({ doc, score }))
    .sort((a, b) => b.score - a.score || a.doc - b.doc)
    .slice(0, top);
}
