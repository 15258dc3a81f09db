/**
 * `switch`: run the steps of the first case whose `when` holds, else `default`.
 * The chosen branch's records become this step's children; the output says which case ran.
 */
import { z } from 'zod';
import type { CompiledExpression } from '../liquid.ts';
import { expressionSchema } from '../schema-helpers.ts';
import { stepsSchema } from '../step-schema.ts';
import type { StepKind, StepList } from '../types.ts';

export interface SwitchInput {
  cases: { when: CompiledExpression; steps: StepList }[];
  default?: StepList;
}

const input = z.strictObject({
  cases: z.array(z.strictObject({ when: expressionSchema, steps: stepsSchema })).min(1),
  default: stepsSchema.optional(),
});

export const switchKind: StepKind<SwitchInput, { case: number | 'default' | null }> = {
  kind: 'switch',
  description: 'run the first case whose condition holds (else default)',
  input,
  async run(ctx, input, signal) {
    for (const [i, c] of input.cases.entries()) {
      if (!ctx.evaluate(c.when)) continue;
      await ctx.runSteps(c.steps, signal);
      return { case: i };
    }
    if (!input.default) return { case: null };
    await ctx.runSteps(input.default, signal);
    return { case: 'default' };
  },
};
