/**
 * `set`: assign workflow variables (`vars.<name>`), in order, so a later key can use an earlier one.
 * Strings are templates; a string that is one `{{ … }}` keeps the value's type (number, object…).
 * `set: { topic: refund, score: "{{ steps.kb.top.score }}", tags: [a, "{{ vars.topic }}"] }`
 */
import { z } from 'zod';
import { issueParams } from '../schema-helpers.ts';
import { compileTemplateValue, renderTemplateValue, type TemplateValue } from '../template-value.ts';
import type { StepKind } from '../types.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const input = z.unknown().transform((raw, ctx): [string, TemplateValue][] => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'set is a map of variable names to values, e.g. { topic: refund }',
      params: issueParams(),
    });
    return z.NEVER;
  }
  const entries: [string, TemplateValue][] = [];
  let ok = true;
  for (const [key, value] of Object.entries(raw)) {
    if (!NAME.test(key)) {
      ctx.addIssue({
        code: 'custom',
        message: `variable name "${key}" may use letters, digits and _ only`,
        path: [key],
        params: issueParams({ yamlKey: true }),
      });
      ok = false;
      continue;
    }
    const compiled = compileTemplateValue(ctx, value, [key]);
    if (compiled === undefined) ok = false;
    else entries.push([key, compiled]);
  }
  return ok ? entries : z.NEVER;
});

export const setKind: StepKind<[string, TemplateValue][], Record<string, unknown>> = {
  kind: 'set',
  description: 'assign workflow variables (vars.<name>) from templates',
  input,
  async run(ctx, entries) {
    const assigned: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      const v = renderTemplateValue(ctx, value);
      ctx.vars[key] = v;
      assigned[key] = v;
    }
    return assigned;
  },
};
