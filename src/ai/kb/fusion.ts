/**
 * Reciprocal-rank fusion of the retrievers' ranked lists, plus a confidence per result.
 *
 * RRF decides the order: it needs no common score scale, so a BM25 score, a class probability
 * and a cosine can be merged without tuning each against the others. Its value is meaningless
 * to a workflow, though, so every result also gets a confidence in [0, 1]: the weighted mean of
 * each retriever's own calibrated score (class probability, share of the query's BM25 weight
 * matched, cosine). Confidences are made non-increasing down the list so that `top.score` is
 * always the best one, which is what a hand-off threshold reads.
 */
import type { Retriever } from './types.ts';

/** A retriever's candidate: entry index, rank position (0 = best) and its own confidence in [0, 1]. */
export interface RankedCandidate {
  entry: number;
  confidence: number;
}

/** Fusion settings (tuned on a Banking77 train/validation split, never on test). */
export interface FusionOptions {
  /** RRF's k: small values trust the retrievers' first places more. */
  k: number;
  /** Weight of each retriever in both the RRF sum and the confidence mean. */
  weights: Record<Retriever, number>;
  /**
   * Candidates below this confidence are left out of a retriever's list. A classifier always
   * ranks every class, even when it has no idea; without a floor its guesses would push the
   * passages that only BM25 or vectors found below them.
   */
  floor: Record<Retriever, number>;
}

/**
 * Intent and BM25 weights are tuned on Banking77 (validation split). The vector weight is a
 * cautious guess: no endpoint was available to tune it, and a weak embedding model given full
 * weight measurably drags the fused ranking below the intent model alone.
 */
export const DEFAULT_FUSION_OPTIONS: FusionOptions = {
  k: 1,
  weights: { intent: 1, bm25: 0.35, vector: 0.5 },
  floor: { intent: 0.02, bm25: 0, vector: 0 },
};

/** One fused result. */
export interface Fused {
  entry: number;
  score: number;
  via: Retriever[];
}

/**
 * Fuse ranked lists (each best first). Only retrievers present in `lists` count towards the
 * confidence mean, so a collection without an intent model (documents only) is not penalised.
 */
export function fuse(
  lists: Partial<Record<Retriever, readonly RankedCandidate[]>>,
  top: number,
  options: FusionOptions = DEFAULT_FUSION_OPTIONS,
): Fused[] {
  const acc = new Map<number, { rrf: number; conf: number; parts: [Retriever, number][] }>();
  let totalWeight = 0;
  for (const [retriever, list] of Object.entries(lists) as [Retriever, readonly RankedCandidate[]][]) {
    const w = options.weights[retriever];
    const floor = options.floor[retriever];
    totalWeight += w;
    list
      .filter((c) => c.confidence >= floor)
      .forEach((c, rank) => {
        let a = acc.get(c.entry);
        if (!a) {
          a = { rrf: 0, conf: 0, parts: [] };
          acc.set(c.entry, a);
        }
        const part = w / (options.k + rank + 1);
        a.rrf += part;
        a.conf += w * clamp01(c.confidence);
        a.parts.push([retriever, part]);
      });
  }
  const ranked = [...acc.entries()].sort((x, y) => y[1].rrf - x[1].rrf || x[0] - y[0]).slice(0, top);
  let ceiling = 1;
  return ranked.map(([entry, a]) => {
    ceiling = Math.min(ceiling, totalWeight > 0 ? a.conf / totalWeight : 0);
    return {
      entry,
      score: round4(ceiling),
      via: a.parts.sort((x, y) => y[1] - x[1]).map(([r]) => r),
    };
  });
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
