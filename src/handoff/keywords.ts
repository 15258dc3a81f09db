/**
 * "I want a human" keywords, checked on every visitor message before the workflow runs.
 *
 * Latin keywords match whole words (so `agent` is found in "an agent please" but not in
 * "agenda"); keywords with any non-Latin letter (Chinese, …) match anywhere, since those scripts
 * have no spaces. Both sides are NFKC-folded and lower-cased, so full-width letters count too.
 */
const LATIN_ONLY = /^[\p{Script=Latin}\p{N}\s'-]+$/u;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const fold = (s: string) => s.normalize('NFKC').toLowerCase();

export type KeywordMatcher = (text: string | undefined) => string | null;

/** Compile once (at boot); returns the first keyword found in a text, or null. */
export function compileKeywords(keywords: readonly string[]): KeywordMatcher {
  const words: { keyword: string; test: (t: string) => boolean }[] = keywords.map((keyword) => {
    const k = fold(keyword.trim());
    if (LATIN_ONLY.test(k)) {
      // Word boundaries that understand Unicode letters (\b is ASCII-only).
      const re = new RegExp(
        `(?<![\\p{L}\\p{N}])${escapeRegExp(k).replace(/\s+/g, '\\s+')}(?![\\p{L}\\p{N}])`,
        'u',
      );
      return { keyword, test: (t) => re.test(t) };
    }
    return { keyword, test: (t) => t.includes(k) };
  });
  return (text) => {
    if (!text || words.length === 0) return null;
    const t = fold(text);
    return words.find((w) => w.test(t))?.keyword ?? null;
  };
}
