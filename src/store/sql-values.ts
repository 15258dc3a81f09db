/**
 * Values on their way into PostgreSQL. Platform payloads are arbitrary: a NUL character or a lone
 * UTF-16 surrogate, legal in a JS string, is rejected by `text` and `jsonb`, and a message that
 * cannot be recorded would be retried until it is dead-lettered. Those characters carry no
 * meaning in a chat message, so they are dropped (NUL) or replaced (U+FFFD) instead.
 */

/** Only these escapes in `JSON.stringify` output can hold a NUL or a lone surrogate. */
const SUSPECT_JSON = /\\u(?:0000|d[89a-f])/i;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function cleanString(s: string): string {
  return s.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD');
}

/** JSON text for a `$n::jsonb` parameter. Passed as a string so both drivers bind it unchanged. */
export function jsonParam(value: unknown): string {
  const json = JSON.stringify(value ?? null);
  if (!SUSPECT_JSON.test(json)) return json;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? cleanString(v) : v));
}

/** A `text` parameter; `undefined` becomes SQL NULL. */
export function textParam(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.includes('\u0000') || ANY_SURROGATE.test(value) ? cleanString(value) : value;
}

/** A page size: the default when absent or not a number, else clamped to 1…max. */
export function limitParam(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}
