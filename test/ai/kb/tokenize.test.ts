import { describe, expect, it } from 'vitest';
import { charNgrams, normalizeText, tokenize } from '../../../src/ai/kb/tokenize.ts';

describe('tokenize', () => {
  it('segments Chinese into words, not characters', () => {
    expect(tokenize('我想申请退货退款')).toEqual(expect.arrayContaining(['退货', '退款']));
  });

  it('drops Chinese and English stop words only when asked', () => {
    expect(tokenize('我想退货', { stopWords: true })).toEqual(['退货']);
    expect(tokenize('is my refund ok', { stopWords: true })).toEqual(['refund', 'ok']);
    expect(tokenize('is my refund ok')).toEqual(['is', 'my', 'refund', 'ok']);
    // Question words stay for BM25: "why was I charged" and "how do I pay" are different questions.
    expect(tokenize('why was I charged', { stopWords: true })).toEqual(['why', 'charg']);
  });

  it('lower-cases and stems English so inflections meet', () => {
    expect(tokenize('Refunds REFUNDED refunding')).toEqual(['refund', 'refund', 'refund']);
  });

  it('keeps negations as tokens, expanding contractions', () => {
    expect(tokenize("my card hasn't arrived", { stopWords: true })).toEqual(['card', 'not', 'arriv']);
  });

  it('handles mixed CJK/Latin text and full-width characters', () => {
    expect(normalizeText('ＯＲＤＥＲ１２３')).toBe('order123');
    expect(tokenize('order 发票怎么开', { stopWords: true })).toEqual(['order', '发票', '开']);
    expect(tokenize('iPhone15的保修')).toEqual(['iphone15', '的', '保修']);
  });

  it('cuts padded Latin grams and short Han grams', () => {
    const grams = charNgrams('ab 退货', [2, 3], [1, 2]);
    expect(grams).toEqual([' a', 'ab', 'b ', ' ab', 'ab ', '退', '货', '退货']);
  });
});
