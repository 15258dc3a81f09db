/**
 * zod building blocks for step-kind inputs. Each one compiles at load, so a typo is a
 * `file:line:col` error when the file is loaded, never a surprise while a customer waits.
 */
import { z } from 'zod';
import type { YamlIssueParams } from '../config/yaml-source.ts';
import { CompiledExpression, CompiledTemplate, TemplateSyntaxError } from './liquid.ts';

type Path = (string | number)[];
type Ctx = z.core.$RefinementCtx;

/** Issue params for a message that says itself what is wrong (no `path:` prefix), at an optional offset. */
export function issueParams(extra: YamlIssueParams = {}): YamlIssueParams {
  return { bare: true, ...extra };
}

/**
 * A Liquid text template: `"Hello {{ message.sender.name | default: 'there' }}"`.
 * Numbers and booleans are taken as their text (`reply: 42`). Output: `CompiledTemplate`.
 */
export const templateSchema = z.unknown().transform((value, ctx): CompiledTemplate => {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    ctx.addIssue({
      code: 'invalid_type',
      expected: 'string',
      input: value,
      message: `expected a text (template), got ${describe(value)}`,
    });
    return z.NEVER;
  }
  try {
    return new CompiledTemplate(String(value));
  } catch (err) {
    const offset = err instanceof TemplateSyntaxError ? err.offset : undefined;
    ctx.addIssue({ code: 'custom', message: (err as Error).message, params: issueParams({ offset }) });
    return z.NEVER;
  }
});

/**
 * A Liquid condition: `steps.kb.top.score < 0.3`, `message.text contains "退款"`, `vars.vip and not vars.muted`.
 * `true`/`false` are accepted as constants. Output: `CompiledExpression`.
 */
export const expressionSchema = z.unknown().transform((value, ctx): CompiledExpression => {
  if (typeof value !== 'string' && typeof value !== 'boolean') {
    ctx.addIssue({
      code: 'invalid_type',
      expected: 'string',
      input: value,
      message: `expected a condition, got ${describe(value)}`,
    });
    return z.NEVER;
  }
  try {
    return new CompiledExpression(String(value));
  } catch (err) {
    const offset = err instanceof TemplateSyntaxError ? err.offset : undefined;
    ctx.addIssue({ code: 'custom', message: (err as Error).message, params: issueParams({ offset }) });
    return z.NEVER;
  }
});

/** "a list", "a map", "nothing"… for messages about a value of the wrong type. */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

/** A step id: usable in templates as `steps.<id>` (letters, digits, `_`, `-`; not starting with a digit). */
export const stepIdSchema = z.string().refine((s) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s), {
  message: 'step id may use letters, digits, _ and - (and not start with a digit)',
  params: issueParams(),
});

/** A JavaScript regular expression source plus flags, compiled at load. `g`/`y` are refused (stateful). */
export function compileRegex(
  source: string,
  flags: string | undefined,
  ctx: Ctx,
  path: Path,
): RegExp | undefined {
  const f = flags ?? '';
  if (/[gy]/.test(f)) {
    ctx.addIssue({
      code: 'custom',
      message: 'regex flags g and y are not allowed (matching is stateless); use i, m, s, u',
      path,
      params: issueParams(),
    });
    return undefined;
  }
  try {
    return new RegExp(source, f);
  } catch (err) {
    const detail = (err as Error).message.replace(/^Invalid regular expression: /, '');
    ctx.addIssue({ code: 'custom', message: `invalid regex: ${detail}`, path, params: issueParams() });
    return undefined;
  }
}

/**
 * Re-raise issues of a nested parse under `prefix`, turning zod's generic wording into what ops
 * staff need: a missing key says so, an unknown key points at itself.
 */
export function forwardIssues(
  ctx: Ctx,
  issues: readonly z.core.$ZodIssue[],
  prefix: Path,
  raw: unknown,
): void {
  for (const issue of issues) {
    const rel = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const path = [...prefix, ...rel];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        ctx.addIssue({
          code: 'custom',
          message: `unknown key "${key}"`,
          path: [...path, key],
          params: issueParams({ yamlKey: true }),
        });
      continue;
    }
    if (issue.code !== 'custom' && rel.length > 0 && !hasPath(raw, rel)) {
      const key = String(rel[rel.length - 1]);
      ctx.addIssue({
        code: 'custom',
        message: `missing required field "${key}"`,
        path,
        params: issueParams(),
      });
      continue;
    }
    ctx.addIssue({ ...issue, path } as Parameters<Ctx['addIssue']>[0]);
  }
}

/** True when `path` exists in the raw (YAML-derived) value. */
export function hasPath(raw: unknown, path: Path): boolean {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return true;
}

/** Run `schema` on `raw`, forwarding issues under `prefix`; undefined when it failed. */
export function parseNested<S extends z.ZodType>(
  ctx: Ctx,
  schema: S,
  raw: unknown,
  prefix: Path,
): z.output<S> | undefined {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  forwardIssues(ctx, r.error.issues, prefix, raw);
  return undefined;
}
