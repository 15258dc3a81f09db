import { createHash } from 'node:crypto';
import type { KbEmbedder } from '../../../src/ai/kb/embedder.ts';
import { tokenize } from '../../../src/ai/kb/tokenize.ts';

/**
 * A deterministic stand-in for an embedding endpoint: hashed bag of words plus a synonym table,
 * so "parcel" and "package" land close, as a real model would put them.
 */
export function fakeEmbedder(model = 'fake-1'): KbEmbedder & { texts: number } {
  const synonyms: Record<string, string> = { parcel: 'packag', 包裹: 'packag', 快递: 'packag' };
  const embed = (text: string) => {
    const v = new Array<number>(64).fill(0);
    for (const t of tokenize(text, { stopWords: true })) {
      const word = synonyms[t] ?? t;
      v[createHash('md5').update(word).digest()[0]! % 64]! += 1;
    }
    return v;
  };
  const e = {
    model,
    texts: 0,
    async embedDocuments(texts: string[]) {
      e.texts += texts.length;
      return texts.map(embed);
    },
    async embedQuery(text: string) {
      return embed(text);
    },
  };
  return e;
}
