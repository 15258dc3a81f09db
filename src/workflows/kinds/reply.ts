/**
 * `reply`: send a message. `reply: "Hi {{ message.sender.name }}"` or
 * `reply: { text: "…", kind: markdown, attachments: [{ url: "…", mime: image/png }] }`.
 */
import { z } from 'zod';
import type { CompiledTemplate } from '../liquid.ts';
import { issueParams, parseNested, templateSchema } from '../schema-helpers.ts';
import type { ReplyDraft, StepKind } from '../types.ts';

const attachmentInput = z.strictObject({
  url: templateSchema.optional(),
  mediaId: z.string().min(1).optional(),
  mime: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
});

const replyObject = z.strictObject({
  text: templateSchema,
  kind: z.enum(['text', 'markdown']).default('text'),
  attachments: z.array(attachmentInput).min(1).optional(),
});

export interface ReplyInput {
  text: CompiledTemplate;
  kind: 'text' | 'markdown';
  attachments?: z.output<typeof attachmentInput>[];
}

const input = z.unknown().transform((raw, ctx): ReplyInput => {
  if (typeof raw === 'string' || typeof raw === 'number') {
    const text = parseNested(ctx, templateSchema, raw, []);
    return text ? { text, kind: 'text' } : z.NEVER;
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw))
    return parseNested(ctx, replyObject, raw, []) ?? z.NEVER;
  ctx.addIssue({
    code: 'custom',
    message: 'reply is a text, or a map with "text" (and optional "kind", "attachments")',
    params: issueParams(),
  });
  return z.NEVER;
});

export const replyKind: StepKind<ReplyInput, ReplyDraft> = {
  kind: 'reply',
  description: 'send a text or markdown message (templated)',
  input,
  async run(ctx, input) {
    const text = ctx.render(input.text);
    const attachments = input.attachments?.map(({ url, ...rest }) => ({
      ...rest,
      ...(url ? { url: ctx.render(url) } : {}),
    }));
    // Platforms reject empty messages; failing here lets a `fallback` answer instead.
    if (text.trim() === '' && !attachments) throw new Error('reply text is empty after rendering');
    const draft: ReplyDraft = { kind: input.kind, text, ...(attachments ? { attachments } : {}) };
    ctx.reply(draft);
    return draft;
  },
};
