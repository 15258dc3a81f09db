/**
 * YAML in, schema-checked value out, or a list of `file:line:col message` issues.
 *
 * Every config and workflow file goes through here, so ops staff get the same precise
 * positions for a YAML syntax slip, a schema violation (zod issue path → YAML node) or a
 * missing `${ENV}` reference. YAML content is only ever data: nothing here evaluates it.
 */
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.ts';

export type YamlParseResult<T> = { ok: true; value: T; doc: Document } | { ok: false; issues: ConfigIssue[] };

export interface YamlParseOptions {
  /** Replace `${NAME}` / `${NAME:-default}` in string scalars; an unset name without default is an error at its position. */
  env?: Record<string, string | undefined>;
}

/**
 * Optional hints a schema may put in a custom zod issue's `params` to sharpen its position or wording.
 * They are opt-in: issues without them print exactly as before.
 */
export interface YamlIssueParams {
  /** Point at the key of the last path segment (e.g. an unknown key) instead of its value. */
  yamlKey?: boolean;
  /** Character offset inside the string scalar at the path (e.g. where a template error is); best effort. */
  offset?: number;
  /** Print the message without the `path: ` prefix (for messages that already say where they are). */
  bare?: boolean;
}

/** `${NAME}` or `${NAME:-default}`. */
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function parseYamlWithSchema<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  opts: YamlParseOptions = {},
): YamlParseResult<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, message: string): ConfigIssue => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, col: pos.col, message };
  };

  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'DUPLICATE_KEY')];
  if (syntax.length > 0) {
    return { ok: false, issues: syntax.map((e) => at(e.pos[0], e.message.split('\n')[0] ?? e.message)) };
  }

  const issues: ConfigIssue[] = [];
  if (opts.env) interpolateEnv(doc, opts.env, (offset, msg) => issues.push(at(offset, msg)));
  if (issues.length > 0) return { ok: false, issues };

  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return { ok: true, value: result.data, doc };
  for (const issue of result.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const params = ('params' in issue ? issue.params : undefined) as YamlIssueParams | undefined;
    const where = path.length > 0 && !params?.bare ? `${path.join('.')}: ` : '';
    issues.push(at(issueOffset(doc, text, path, params), `${where}${issue.message}`));
  }
  return { ok: false, issues };
}

function issueOffset(
  doc: Document,
  text: string,
  path: (string | number)[],
  params?: YamlIssueParams,
): number {
  if (params?.yamlKey && path.length > 0) {
    const parent = doc.getIn(path.slice(0, -1), true) ?? (path.length === 1 ? doc.contents : undefined);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
      if (isScalar(pair?.key) && pair.key.range) return pair.key.range[0];
    }
  }
  const node = nearestNode(doc, path);
  const start = node?.range?.[0] ?? 0;
  if (params?.offset !== undefined && isScalar(node) && typeof node.value === 'string') {
    return scalarSourceOffset(text, node as Node & { type?: string; value: string }, params.offset) ?? start;
  }
  return start;
}

/**
 * Where character `offset` of a string scalar's value sits in the source, for the common cases where
 * the value maps onto the source without escapes or folding (plain, quoted, literal block); else undefined.
 */
export function scalarSourceOffset(
  text: string,
  node: Node & { type?: string; value: string },
  offset: number,
): number | undefined {
  const [start, end] = node.range ?? [0, 0];
  const value = node.value;
  if (offset < 0 || offset > value.length) return undefined;
  let src: number | undefined;
  if (node.type === 'PLAIN' && text.slice(start, end) === value) src = start + offset;
  else if (
    (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') &&
    text.slice(start + 1, end - 1) === value
  )
    src = start + 1 + offset;
  else if (node.type === 'BLOCK_LITERAL') {
    const before = value.slice(0, offset);
    const lineIdx = before.split('\n').length - 1;
    const colInLine = offset - (before.lastIndexOf('\n') + 1);
    const lines = text.slice(start, end).split('\n').slice(1);
    const indent = Math.min(
      ...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length),
    );
    let lineStart = text.indexOf('\n', start) + 1;
    for (let i = 0; i < lineIdx; i++) lineStart = text.indexOf('\n', lineStart) + 1;
    if (Number.isFinite(indent) && lineStart > 0) src = lineStart + indent + colInLine;
  }
  if (src === undefined) return undefined;
  // Only trust the mapping when it lands on the same character.
  return offset === value.length || text[src] === value[offset] ? src : undefined;
}

/** The node at `path`, or its closest existing ancestor (a missing key points at its parent map). */
export function nearestNode(doc: Document, path: (string | number)[]): Node | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

function interpolateEnv(
  doc: Document,
  env: Record<string, string | undefined>,
  report: (offset: number, message: string) => void,
): void {
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
        const value = env[name] ?? fallback;
        if (value === undefined) {
          report(node.range?.[0] ?? 0, `environment variable ${name} is not set`);
          return '';
        }
        return value;
      });
    },
  });
}
