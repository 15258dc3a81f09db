/**
 * Text → tokens for every retriever: one normalisation, Chinese word segmentation (jieba) and
 * English stemming (Porter), so that "退货", "Refunds" and "refund" meet the same index term
 * whether they come from a FAQ file or from a visitor's message, in any mix of scripts.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { stemmer } from 'stemmer';
import { CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS } from './stop-words.ts';

/** Han ideographs (incl. extension A and compatibility block): the runs handed to jieba. */
const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const LATIN_WORD = /[\p{L}\p{N}]+/gu;

let jieba: Jieba | undefined;

/** Loading the dictionary takes ~150 ms, so it happens once, on first use. */
function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

/**
 * NFKC folds full-width letters, digits and punctuation ("ＯＲＤＥＲ１２３，") into their ASCII
 * forms, which Chinese input methods produce all the time; then lower-case.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019`´]/g, "'");
}

/** English contractions expanded so that the negation survives as its own token. */
function expandContractions(text: string): string {
  return text
    .replace(/\b(can)'t\b/g, '$1 not')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/n't\b/g, ' not')
    .replace(/'(s|m|re|ve|ll|d)\b/g, '');
}

const stemCache = new Map<string, string>();

function stem(word: string): string {
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    stemmed = /^[a-z]+$/.test(word) ? stemmer(word) : word;
    if (stemCache.size < 200_000) stemCache.set(word, stemmed);
  }
  return stemmed;
}

/** How to tokenise: lexical search drops stop words, the intent model keeps everything. */
export interface TokenizeOptions {
  stopWords?: boolean;
}

/**
 * Word tokens of a text: Chinese words from jieba's search-mode cut (which also yields the
 * shorter words inside long compounds, so "退货退款" matches "退款"), Latin words lower-cased and
 * stemmed, digits kept, punctuation and whitespace dropped.
 */
export function tokenize(text: string, opts: TokenizeOptions = {}): string[] {
  const dropStop = opts.stopWords ?? false;
  const out: string[] = [];
  const normalized = expandContractions(normalizeText(text));
  // jieba would also split Latin text, but it keeps "iphone15" and "e-mail" whole and does not
  // stem, so Latin runs take the cheaper regex path and only Han runs go to the segmenter.
  for (const run of normalized.split(/([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)/)) {
    if (run.length === 0) continue;
    if (CJK.test(run)) {
      for (const word of segmenter().cutForSearch(run, true)) {
        if (dropStop && CHINESE_STOP_WORDS.has(word)) continue;
        out.push(word);
      }
      continue;
    }
    for (const match of run.matchAll(LATIN_WORD)) {
      const word = match[0];
      if (dropStop && ENGLISH_STOP_WORDS.has(word)) continue;
      out.push(stem(word));
    }
  }
  return out;
}

/**
 * Character n-grams, the part of the intent model that survives typos ("recieve"), inflections
 * the stemmer misses and Chinese segmentation disagreements. Latin words are padded with a space
 * on each side (so prefixes and suffixes are distinct grams) and cut into `latin` lengths; Han
 * runs are cut into `han` lengths, because single Han characters already carry meaning.
 */
export function charNgrams(
  text: string,
  latin: readonly [number, number] = [3, 5],
  han: readonly [number, number] = [1, 2],
): string[] {
  const out: string[] = [];
  const normalized = expandContractions(normalizeText(text));
  for (const run of normalized.split(/([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)/)) {
    if (run.length === 0) continue;
    const isHan = CJK.test(run);
    const [min, max] = isHan ? han : latin;
    const pieces = isHan ? [run] : Array.from(run.matchAll(LATIN_WORD), (m) => ` ${m[0]} `);
    for (const piece of pieces) {
      const chars = Array.from(piece);
      for (let n = min; n <= max; n++) {
        for (let i = 0; i + n <= chars.length; i++) out.push(chars.slice(i, i + n).join(''));
      }
    }
  }
  return out;
}
