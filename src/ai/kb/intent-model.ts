/**
 * The self-trained intent model: multinomial logistic regression over TF-IDF features, trained
 * at ingest by SGD on the entries' questions and similar questions (each entry is one class).
 * Softmax outputs double as a confidence, which is why this is logistic regression and not an
 * SVM. Few epochs with a decaying step act as the regulariser (an explicit L2 penalty measured
 * worse on held-out Banking77 queries, so it defaults to 0). Training is seeded and
 * single-threaded; Banking77 (10k texts, 77 classes, ~20k features) takes ~3 s on one core.
 */
import type { SparseVector } from './features.ts';
import { seededRandom, shuffleInPlace } from './random.ts';

/** One labelled training text, already vectorised. */
export interface TrainingExample {
  x: SparseVector;
  label: number;
}

/** Training settings (defaults tuned on a Banking77 train/validation split, never on test). */
export interface IntentModelOptions {
  epochs: number;
  /** Initial step size; decays linearly to 5% of it over the epochs. */
  learningRate: number;
  /** L2 penalty per example (applied through a shared weight scale, Bottou's trick). */
  l2: number;
  seed: number;
}

export const DEFAULT_INTENT_OPTIONS: IntentModelOptions = {
  epochs: 8,
  learningRate: 2,
  l2: 0,
  seed: 77,
};

/** The step size decays linearly over training, down to this share of the initial one. */
const MIN_LR_SHARE = 0.05;

/** Class gradients smaller than this are skipped in an SGD step. */
const GRADIENT_FLOOR = 1e-3;

/** Probability of the right class above which an example counts as fitted (see shrinking). */
const FITTED = 0.99;

/** A trained linear classifier; weights are laid out feature-major so one feature's classes are adjacent. */
export class IntentModel {
  private constructor(
    private readonly weights: Float32Array,
    private readonly bias: Float64Array,
    readonly numClasses: number,
  ) {}

  /** Train on `examples`; deterministic for the same examples, order and seed. */
  static train(
    examples: readonly TrainingExample[],
    numFeatures: number,
    numClasses: number,
    options: Partial<IntentModelOptions> = {},
  ): IntentModel {
    const opts = { ...DEFAULT_INTENT_OPTIONS, ...options };
    const C = numClasses;
    const w = new Float32Array(numFeatures * C);
    const bias = new Float64Array(C);
    const probs = new Float64Array(C);
    const activeClasses = new Int32Array(C);
    const fitted = new Uint8Array(examples.length);
    const order = examples.map((_, i) => i);
    const random = seededRandom(opts.seed);
    // L2 decay is applied to a shared scale instead of every weight (Bottou's trick): the true
    // weight is `scale · w`, which keeps one SGD step proportional to the example's non-zeros.
    let scale = 1;
    let t = 0;
    const totalSteps = Math.max(1, opts.epochs * examples.length);
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      shuffleInPlace(order, random);
      // Shrinking: an example the model already got right with near certainty contributes a
      // near-zero gradient, so it sits out most epochs and is looked at again every third one.
      const recheck = epoch % 3 === 0;
      for (const i of order) {
        if (!recheck && fitted[i] === 1) continue;
        const { x, label } = examples[i]!;
        const lr = opts.learningRate * Math.max(MIN_LR_SHARE, 1 - t++ / totalSteps);
        scoresInto(w, bias, x, C, scale, probs);
        softmaxInPlace(probs);
        fitted[i] = probs[label]! > FITTED ? 1 : 0;
        probs[label]! -= 1;
        scale *= 1 - lr * opts.l2;
        const step = lr / scale;
        // Once the model fits an example most class gradients are ~0; updating only the classes
        // that still matter keeps an epoch cheap without changing the result measurably.
        let active = 0;
        for (let c = 0; c < C; c++) if (Math.abs(probs[c]!) > GRADIENT_FLOOR) activeClasses[active++] = c;
        for (let k = 0; k < x.idx.length; k++) {
          const base = x.idx[k]! * C;
          const v = x.val[k]! * step;
          for (let a = 0; a < active; a++) {
            const c = activeClasses[a]!;
            w[base + c]! -= v * probs[c]!;
          }
        }
        for (let c = 0; c < C; c++) bias[c]! -= lr * probs[c]!;
        if (scale < 1e-6) {
          for (let j = 0; j < w.length; j++) w[j]! *= scale;
          scale = 1;
        }
      }
    }
    for (let j = 0; j < w.length; j++) w[j]! *= scale;
    return new IntentModel(w, bias, C);
  }

  /** Class probabilities for one vectorised text (uniform for a text with no known feature). */
  predict(x: SparseVector): Float64Array {
    const out = new Float64Array(this.numClasses);
    scoresInto(this.weights, this.bias, x, this.numClasses, 1, out);
    return softmaxInPlace(out);
  }
}

function scoresInto(
  w: Float32Array,
  bias: Float64Array,
  x: SparseVector,
  C: number,
  scale: number,
  out: Float64Array,
): void {
  for (let c = 0; c < C; c++) out[c] = 0;
  for (let k = 0; k < x.idx.length; k++) {
    const base = x.idx[k]! * C;
    const v = x.val[k]!;
    for (let c = 0; c < C; c++) out[c]! += w[base + c]! * v;
  }
  for (let c = 0; c < C; c++) out[c] = out[c]! * scale + bias[c]!;
}

function softmaxInPlace(s: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of s) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < s.length; c++) {
    s[c] = Math.exp(s[c]! - max);
    sum += s[c]!;
  }
  for (let c = 0; c < s.length; c++) s[c]! /= sum;
  return s;
}
