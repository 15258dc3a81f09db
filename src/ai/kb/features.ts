/**
 * TF-IDF features for the intent model: word unigrams and bigrams plus character n-grams, each
 * block L2-normalised on its own and then mixed by weight, so that short and long questions land
 * on the same scale and neither block drowns the other.
 */
import { QUESTION_WORDS } from './stop-words.ts';
import { charNgrams, tokenize } from './tokenize.ts';

/** A sparse vector: feature indices (unordered, distinct) with their values. */
export interface SparseVector {
  idx: Uint32Array;
  val: Float32Array;
}

/** Vectoriser settings (defaults tuned on a Banking77 train/validation split, never on test). */
export interface FeatureOptions {
  /**
   * A feature must occur in at least this many training texts to be kept. Unset ⇒ 1 for a small
   * FAQ (every word of a handful of questions matters) and 2 from 2,000 texts up (where features
   * seen once are mostly typos and cost memory and training time).
   */
  minDf?: number;
  /** Weight of the word (uni+bigram) block against the character block. */
  wordWeight: number;
  charWeight: number;
  /** Character n-gram lengths for Latin words and for Han runs. */
  latinGrams: readonly [number, number];
  hanGrams: readonly [number, number];
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  wordWeight: 1,
  charWeight: 1,
  latinGrams: [2, 5],
  hanGrams: [1, 2],
};

/** Raw feature strings of one text, by block; repeated grams repeat (they are term counts). */
function rawFeatures(text: string, opts: FeatureOptions): { words: string[]; chars: string[] } {
  const tokens = tokenize(text);
  const words = tokens.map((t) => `w ${t}`);
  for (let i = 0; i + 1 < tokens.length; i++) words.push(`b ${tokens[i]} ${tokens[i + 1]}`);
  const chars = charNgrams(text, opts.latinGrams, opts.hanGrams).map((g) => `c${g}`);
  return { words, chars };
}

function counts(features: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of features) m.set(f, (m.get(f) ?? 0) + 1);
  return m;
}

/** A fitted vocabulary with inverse document frequencies. */
export class TfidfVectorizer {
  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly idf: Float32Array,
    private readonly opts: FeatureOptions,
  ) {}

  /** Number of features (columns). */
  get size(): number {
    return this.idf.length;
  }

  /** Learn the vocabulary and smoothed IDF (`ln((1+N)/(1+df)) + 1`) from training texts. */
  static fit(texts: readonly string[], options: Partial<FeatureOptions> = {}): TfidfVectorizer {
    return TfidfVectorizer.fitTransform(texts, options).vectorizer;
  }

  /** `fit`, plus the training texts' vectors without extracting their features a second time. */
  static fitTransform(
    texts: readonly string[],
    options: Partial<FeatureOptions> = {},
  ): { vectorizer: TfidfVectorizer; vectors: SparseVector[] } {
    const opts = { ...DEFAULT_FEATURE_OPTIONS, ...options };
    const raw = texts.map((t) => rawFeatures(t, opts));
    const df = new Map<string, number>();
    for (const { words, chars } of raw) {
      for (const f of new Set(words)) df.set(f, (df.get(f) ?? 0) + 1);
      for (const f of new Set(chars)) df.set(f, (df.get(f) ?? 0) + 1);
    }
    const minDf = opts.minDf ?? (texts.length >= 2000 ? 2 : 1);
    // Sorted so that the same texts always give the same column order (determinism).
    const kept = [...df.entries()].filter(([, n]) => n >= minDf).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const vocab = new Map<string, number>();
    const idf = new Float32Array(kept.length);
    kept.forEach(([f, n], i) => {
      vocab.set(f, i);
      idf[i] = Math.log((1 + texts.length) / (1 + n)) + 1;
    });
    const vectorizer = new TfidfVectorizer(vocab, idf, opts);
    return { vectorizer, vectors: raw.map((r) => vectorizer.vectorize(r)) };
  }

  /** Vectorise one text; unknown features are ignored, so an off-topic text may be all zeros. */
  transform(text: string): SparseVector {
    return this.vectorize(rawFeatures(text, this.opts));
  }

  /**
   * Share of the text's content words (stop words aside) that the training texts contained:
   * near 0 for an off-topic question ("what is the weather tomorrow"), whose probabilities are
   * then only the echo of "what is the" and should not be trusted; 0 for a text of stop words
   * only ("hello").
   */
  knownShare(text: string): number {
    const words = tokenize(text, { stopWords: true }).filter((w) => !QUESTION_WORDS.has(w));
    if (words.length === 0) return 0;
    let known = 0;
    for (const w of words) if (this.vocab.has(`w ${w}`)) known++;
    return known / words.length;
  }

  private vectorize({ words, chars }: { words: string[]; chars: string[] }): SparseVector {
    const cols: number[] = [];
    const vals: number[] = [];
    this.addBlock(counts(words), this.opts.wordWeight, cols, vals);
    this.addBlock(counts(chars), this.opts.charWeight, cols, vals);
    let norm = 0;
    for (const v of vals) norm += v * v;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return { idx: Uint32Array.from(cols), val: Float32Array.from(vals, (v) => v * scale) };
  }

  /** Sublinear TF × IDF, L2-normalised within the block, then weighted. */
  private addBlock(block: Map<string, number>, weight: number, cols: number[], vals: number[]): void {
    const start = vals.length;
    let norm = 0;
    for (const [f, n] of block) {
      const col = this.vocab.get(f);
      if (col === undefined) continue;
      const v = (1 + Math.log(n)) * this.idf[col]!;
      cols.push(col);
      vals.push(v);
      norm += v * v;
    }
    if (norm === 0) return;
    const scale = weight / Math.sqrt(norm);
    for (let i = start; i < vals.length; i++) vals[i]! *= scale;
  }
}
