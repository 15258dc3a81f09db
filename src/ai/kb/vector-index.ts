/**
 * Brute-force cosine search over the entries' embeddings: the fallback when the store has no
 * pgvector (vector-search.ts). A knowledge base of a few thousand entries is a few MB of floats
 * and one pass takes well under a millisecond, so no ANN index is needed; the vectors are
 * normalised once so cosine is a dot product.
 */

/** A cosine hit: entry index and similarity in [-1, 1]. */
export interface VectorHit {
  entry: number;
  cosine: number;
}

/** Embeddings of one collection, unit-normalised, with the entry index each belongs to. */
export class VectorIndex {
  private readonly rows: { entry: number; v: Float32Array }[] = [];
  readonly dimensions: number;

  constructor(embeddings: readonly (readonly number[] | null)[]) {
    let dims = 0;
    embeddings.forEach((e, entry) => {
      if (!e || e.length === 0 || (dims > 0 && e.length !== dims)) return;
      dims = e.length;
      this.rows.push({ entry, v: normalize(e) });
    });
    this.dimensions = dims;
  }

  /** Number of entries with an embedding. */
  get size(): number {
    return this.rows.length;
  }

  /** The `top` most similar entries to `query`, best first. */
  search(query: readonly number[], top: number): VectorHit[] {
    if (query.length !== this.dimensions) return [];
    const q = normalize(query);
    return this.rows
      .map(({ entry, v }) => {
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i]! * q[i]!;
        return { entry, cosine: dot };
      })
      .sort((a, b) => b.cosine - a.cosine || a.entry - b.entry)
      .slice(0, top);
  }
}

/** Unit-length copy of `v` (a zero vector stays zero). */
export function normalize(v: readonly number[]): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Float32Array.from(v, (x) => x * scale);
}

/** Mean of unit-normalised vectors, itself normalised: one vector for a question and its paraphrases. */
export function centroid(vectors: readonly (readonly number[])[]): number[] {
  const first = vectors[0];
  if (!first) return [];
  const sum = new Float64Array(first.length);
  for (const v of vectors) {
    const n = normalize(v);
    for (let i = 0; i < sum.length; i++) sum[i]! += n[i] ?? 0;
  }
  return Array.from(normalize(Array.from(sum)));
}
