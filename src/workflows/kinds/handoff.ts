/**
 * `handoff`: hand the conversation to a human agent queue and end the run.
 * `handoff: {}`, `handoff: after-sales`, or `handoff: { queue, reason, reply, when }`.
 * `reply: false` hands off silently. The engine only reports the request: the caller changes the
 * conversation's state, so a dry run touches nothing.
 */
import { z } from 'zod';
import type { CompiledExpression, CompiledTemplate } from '../liquid.ts';
import { expressionSchema, issueParams, parseNested, templateSchema } from '../schema-helpers.ts';
import type { StepKind } from '../types.ts';

export interface HandoffInput {
  queue: string;
  reason?: CompiledTemplate;
  /** false: no message to the visitor. */
  reply?: CompiledTemplate | false;
  /** Inner guard (same as the step's `when`), for `handoff: { when: "…", queue: … }`. */
  when?: CompiledExpression;
}

const queueSchema = z
  .string()
  .trim()
  .refine((s) => s.length > 0, { message: 'queue may not be empty', params: issueParams() });

const handoffObject = z.strictObject({
  queue: queueSchema.default('default'),
  reason: templateSchema.optional(),
  reply: z.unknown().optional(),
  when: expressionSchema.optional(),
});

const input = z.unknown().transform((raw, ctx): HandoffInput => {
  if (raw === null || raw === undefined) return { queue: 'default' };
  if (typeof raw === 'string') {
    const queue = parseNested(ctx, queueSchema, raw, []);
    return queue ? { queue } : z.NEVER;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: 'handoff is a queue name, or a map with queue, reason, reply, when',
      params: issueParams(),
    });
    return z.NEVER;
  }
  const v = parseNested(ctx, handoffObject, raw, []);
  if (!v) return z.NEVER;
  const { reply: rawReply, ...rest } = v;
  if (rawReply === undefined) return rest;
  if (rawReply === false) return { ...rest, reply: false };
  const reply = parseNested(ctx, templateSchema, rawReply, ['reply']);
  return reply ? { ...rest, reply } : z.NEVER;
});

export const handoffKind: StepKind<HandoffInput, { queue: string; reason?: string }> = {
  kind: 'handoff',
  description: 'hand the conversation to a human agent queue (ends the run)',
  input,
  async run(ctx, input) {
    if (input.when && !ctx.evaluate(input.when)) ctx.skip('condition is false');
    const reason = input.reason ? ctx.render(input.reason) : undefined;
    const reply = input.reply === false ? false : input.reply ? ctx.render(input.reply) : undefined;
    ctx.handoff({
      queue: input.queue,
      ...(reason ? { reason } : {}),
      ...(reply !== undefined ? { reply } : {}),
    });
    return { queue: input.queue, ...(reason ? { reason } : {}) };
  },
};
