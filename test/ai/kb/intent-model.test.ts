import { describe, expect, it } from 'vitest';
import { TfidfVectorizer } from '../../../src/ai/kb/features.ts';
import { IntentModel } from '../../../src/ai/kb/intent-model.ts';

const TEXTS = [
  ['我想退货', 0],
  ['怎么退货', 0],
  ['return my order', 0],
  ['send it back', 0],
  ['多久发货', 1],
  ['什么时候发货', 1],
  ['when will it ship', 1],
  ['dispatch time', 1],
  ['开发票', 2],
  ['我要发票', 2],
  ['I need an invoice', 2],
  ['VAT receipt', 2],
] as const;

function train(seed: number) {
  const { vectorizer, vectors } = TfidfVectorizer.fitTransform(TEXTS.map(([t]) => t));
  const model = IntentModel.train(
    vectors.map((x, i) => ({ x, label: TEXTS[i]![1] })),
    vectorizer.size,
    3,
    { seed },
  );
  return (text: string) => Array.from(model.predict(vectorizer.transform(text)));
}

describe('intent model', () => {
  it('learns the classes from paraphrases and generalises to unseen wording', () => {
    const predict = train(1);
    const argmax = (p: number[]) => p.indexOf(Math.max(...p));
    expect(argmax(predict('可以退货吗'))).toBe(0);
    expect(argmax(predict('发货要多久'))).toBe(1);
    expect(argmax(predict('invoice please'))).toBe(2);
    const p = predict('我想退货');
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('is deterministic for a seed', () => {
    expect(train(7)('returns')).toEqual(train(7)('returns'));
  });

  it('gives a text with no known feature a uniform distribution', () => {
    const p = train(1)('zzzz qqqq');
    for (const x of p) expect(x).toBeCloseTo(1 / 3, 1);
  });
});
