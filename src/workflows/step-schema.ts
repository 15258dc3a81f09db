/**
 * Parsing of step lists, shared by the workflow's `steps`, `fallback`, `switch` cases and any kind
 * with nested steps (`parallel` branches): one parser, so every level gets the same checks and ids.
 *
 * A step is a map with exactly one kind key (looked up in the registry) plus the common keys
 * `id`, `when`, `timeout`, `fallback`. The registry and the YAML paths of the raw values are held
 * in a load context for the duration of one (synchronous) file parse, so kinds can declare nested
 * lists with a plain `stepsSchema` and still get the loading registry and right positions.
 */
import { z } from 'zod';
import { durationSchema } from '../config/duration.ts';
import type { CompiledExpression } from './liquid.ts';
import { expressionSchema, forwardIssues, issueParams, parseNested, stepIdSchema } from './schema-helpers.ts';
import type { CompiledStep, StepKind, StepList } from './types.ts';

/** Keys every step may have besides its kind. */
export const RESERVED_STEP_KEYS = new Set(['id', 'when', 'timeout', 'fallback']);

/** What the step parser needs of a registry. */
export interface KindLookup {
  get(kind: string): StepKind<unknown, unknown> | undefined;
  kinds(): string[];
}

type Path = (string | number)[];
type Ctx = z.core.$RefinementCtx;

interface LoadContext {
  kinds: KindLookup;
  /** YAML path of every raw object/array of the file being parsed (first occurrence for aliases). */
  paths: WeakMap<object, Path>;
  /** Steps being parsed, innermost last: nested default ids derive from the parent's. */
  parents: { id: string; kind: string; path: Path }[];
}

let active: LoadContext | undefined;

/** Parse one workflow file's raw value with `kinds` available to every nested `stepsSchema`. */
export function withLoadContext<T>(kinds: KindLookup, raw: unknown, fn: () => T): T {
  const previous = active;
  active = { kinds, paths: pathsOf(raw), parents: [] };
  try {
    return fn();
  } finally {
    active = previous;
  }
}

function pathsOf(root: unknown): WeakMap<object, Path> {
  const paths = new WeakMap<object, Path>();
  const walk = (value: unknown, path: Path) => {
    if (value === null || typeof value !== 'object' || paths.has(value)) return;
    paths.set(value, path);
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, i]);
    } else for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(root, []);
  return paths;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const timeoutSchema = durationSchema.refine((ms) => ms > 0, {
  message: 'timeout must be more than 0',
  params: issueParams(),
});

/**
 * A nested list of steps (or a single step, taken as a list of one), parsed with the registry of the
 * workflow being loaded. Use it in a kind's input for nested steps. Output: `StepList`.
 */
export const stepsSchema = z.unknown().transform((raw, ctx): StepList => {
  const load = active;
  if (!load) throw new Error('stepsSchema can only parse inside a workflow load (withLoadContext)');
  if (raw === undefined || raw === null) {
    ctx.addIssue({
      code: 'invalid_type',
      expected: 'array',
      input: raw,
      message: 'expected a list of steps',
    });
    return z.NEVER;
  }
  const single = !Array.isArray(raw);
  const items: unknown[] = single ? [raw] : (raw as unknown[]);
  if (items.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a step list may not be empty', params: issueParams() });
    return z.NEVER;
  }
  const where = listLabel(load, raw);
  const steps: CompiledStep[] = [];
  items.forEach((item, index) => {
    const step = parseStep(load, ctx, item, index, single ? [] : [index], where);
    if (step) steps.push(step);
  });
  return steps.length === items.length ? Object.freeze(steps) : z.NEVER;
});

/** Prefix of default ids in a nested list: `<parent id>/<path from the parent's kind value>/`. */
function listLabel(load: LoadContext, raw: unknown): string {
  const parent = load.parents[load.parents.length - 1];
  if (!parent) return '';
  const path = typeof raw === 'object' && raw !== null ? load.paths.get(raw) : undefined;
  let rel: Path = path ? path.slice(parent.path.length) : ['nested'];
  if (rel[0] === parent.kind) rel = rel.slice(1);
  return `${parent.id}/${rel.length > 0 ? `${rel.join('.')}/` : ''}`;
}

function parseStep(
  load: LoadContext,
  ctx: Ctx,
  raw: unknown,
  index: number,
  at: Path,
  where: string,
): CompiledStep | undefined {
  const known = load.kinds.kinds();
  if (!isPlainObject(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: `a step must be a map such as "reply: Hello" (known kinds: ${known.join(', ')})`,
      path: at,
      params: issueParams(),
    });
    return undefined;
  }
  const kindKeys = Object.keys(raw).filter((k) => !RESERVED_STEP_KEYS.has(k));
  const unknown = kindKeys.filter((k) => !load.kinds.get(k));
  for (const key of unknown)
    ctx.addIssue({
      code: 'custom',
      message: `unknown step kind "${key}" (known: ${known.join(', ')})`,
      path: [...at, key],
      params: issueParams({ yamlKey: true }),
    });
  if (unknown.length > 0) return undefined;
  const [kindName, extra] = kindKeys;
  if (kindName === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `step has no kind (known: ${known.join(', ')})`,
      path: at,
      params: issueParams(),
    });
    return undefined;
  }
  if (extra !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `a step has exactly one kind, found "${kindName}" and "${extra}" (split it into two steps)`,
      path: [...at, extra],
      params: issueParams({ yamlKey: true }),
    });
    return undefined;
  }
  const kind = load.kinds.get(kindName)!;
  let ok = true;
  let id = `${where}${kindName}-${index}`;
  if (raw.id !== undefined) {
    const parsed = parseNested(ctx, stepIdSchema, raw.id, [...at, 'id']);
    if (parsed === undefined) ok = false;
    else id = parsed;
  }
  let when: CompiledExpression | undefined;
  if (raw.when !== undefined) {
    when = parseNested(ctx, expressionSchema, raw.when, [...at, 'when']);
    ok &&= when !== undefined;
  }
  let timeoutMs: number | undefined;
  if (raw.timeout !== undefined) {
    timeoutMs = parseNested(ctx, timeoutSchema, raw.timeout, [...at, 'timeout']);
    ok &&= timeoutMs !== undefined;
  }
  const path = load.paths.get(raw) ?? [];
  load.parents.push({ id, kind: kindName, path });
  let input: unknown;
  let fallback: StepList | undefined;
  try {
    const r = kind.input.safeParse(raw[kindName]);
    if (r.success) input = r.data;
    else {
      forwardIssues(ctx, r.error.issues, [...at, kindName], raw[kindName]);
      ok = false;
    }
    if (raw.fallback !== undefined) {
      fallback = parseNested(ctx, stepsSchema, raw.fallback, [...at, 'fallback']);
      ok &&= fallback !== undefined;
    }
  } finally {
    load.parents.pop();
  }
  if (!ok) return undefined;
  return Object.freeze({ id, kind: kindName, input, when, timeoutMs, fallback, path: Object.freeze(path) });
}

/** Every step of a list, depth first in document order, including those nested in kind inputs and fallbacks. */
export function* walkSteps(steps: StepList): Generator<CompiledStep> {
  for (const step of steps) {
    yield step;
    yield* walkNested(step.input);
    if (step.fallback) yield* walkSteps(step.fallback);
  }
}

function* walkNested(value: unknown): Generator<CompiledStep> {
  if (Array.isArray(value)) {
    for (const v of value) {
      if (isCompiledStep(v)) yield* walkSteps([v]);
      else yield* walkNested(v);
    }
  } else if (isPlainObject(value) && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) yield* walkNested(v);
  }
}

function isCompiledStep(v: unknown): v is CompiledStep {
  return (
    isPlainObject(v) &&
    Object.isFrozen(v) &&
    typeof v.id === 'string' &&
    typeof v.kind === 'string' &&
    Array.isArray(v.path)
  );
}
