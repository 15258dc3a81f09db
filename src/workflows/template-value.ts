/**
 * JSON-shaped config whose strings are templates (`set` values, an `http` body, Dify inputs given
 * as a map): compiled at load, rendered per message. A string that is exactly one `{{ … }}` keeps its
 * value's type, so `{ qty: "{{ vars.qty }}" }` sends a number.
 */
import type { z } from 'zod';
import { CompiledTemplate } from './liquid.ts';
import { issueParams, parseNested, templateSchema } from './schema-helpers.ts';
import type { StepContext } from './types.ts';

export type TemplateValue =
  | CompiledTemplate
  | number
  | boolean
  | null
  | TemplateValue[]
  | { [key: string]: TemplateValue };

/** Compile `raw` inside a zod transform; undefined (with issues added) when something does not compile. */
export function compileTemplateValue(
  ctx: z.core.$RefinementCtx,
  raw: unknown,
  path: (string | number)[],
): TemplateValue | undefined {
  if (typeof raw === 'string') return parseNested(ctx, templateSchema, raw, path);
  if (raw === null || typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (Array.isArray(raw)) {
    const out = raw.map((v, i) => compileTemplateValue(ctx, v, [...path, i]));
    return out.some((v) => v === undefined) ? undefined : (out as TemplateValue[]);
  }
  if (typeof raw === 'object') {
    const out: Record<string, TemplateValue> = {};
    let ok = true;
    for (const [k, v] of Object.entries(raw)) {
      const c = compileTemplateValue(ctx, v, [...path, k]);
      if (c === undefined) ok = false;
      else out[k] = c;
    }
    return ok ? out : undefined;
  }
  ctx.addIssue({
    code: 'custom',
    message: `unsupported value of type ${typeof raw}`,
    path,
    params: issueParams(),
  });
  return undefined;
}

/** Render every template in `v` against the step's scope (plus `extra` top-level names). */
export function renderTemplateValue(
  ctx: StepContext,
  v: TemplateValue,
  extra: Record<string, unknown> = {},
): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => renderTemplateValue(ctx, x, extra));
  if (v instanceof CompiledTemplate) {
    // Without extra names the run's own (cached) scope serves.
    return Object.keys(extra).length === 0 ? ctx.value(v) : v.evaluate({ ...ctx.scope(), ...extra });
  }
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, renderTemplateValue(ctx, x as TemplateValue, extra)]),
  );
}

/** Render one template with extra top-level names (`secrets`, `passages`…) next to the usual scope. */
export function renderWith(ctx: StepContext, t: CompiledTemplate, extra: Record<string, unknown>): string {
  return t.render({ ...ctx.scope(), ...extra });
}
