/**
 * A tiny, safe path language for picking values out of JSON answers in config:
 * `data.outputs.text`, `items[0].status`, `headers["x-request-id"]`, an optional leading `$.`.
 * Parsed once at load; applying it only walks own properties — nothing is evaluated.
 */

export type PathSegment = string | number;

/** Parse `a.b[0]["c d"]`; throws an Error with a message naming the problem. */
export function parsePath(source: string): PathSegment[] {
  const text = source.trim().replace(/^\$\.?/, '');
  const out: PathSegment[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid path "${source}": ${what} at character ${i + 1}`);
  };
  if (text === '') return out;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) fail('unclosed [');
      const inner = text.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^(["']).*\1$/.test(inner)) out.push(inner.slice(1, -1));
      else fail('expected a number or a quoted key inside [ ]');
      i = close + 1;
    } else if (ch === '.') {
      if (i === 0 || text[i + 1] === '.' || i === text.length - 1) fail('empty key');
      i++;
    } else {
      const m = /^[A-Za-z0-9_$-]+/.exec(text.slice(i));
      if (!m) fail(`unexpected "${ch}"`);
      out.push(m![0]);
      i += m![0].length;
    }
  }
  return out;
}

/** The value at `path` in `value`, or undefined when any step is missing. */
export function getPath(value: unknown, path: readonly PathSegment[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[seg];
    } else {
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur;
}

/** The path as written back (for messages). */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((s, i) =>
      typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$-]*$/.test(s) ? `${i ? '.' : ''}${s}` : `["${s}"]`,
    )
    .join('');
}
