/**
 * The `sources.dify` block of hub.yaml: where Dify is, and one entry per app a workflow calls.
 *
 * ```yaml
 * sources:
 *   dify:
 *     enabled: true
 *     baseURL: https://api.dify.ai/v1          # self-hosted: http://dify.internal/v1
 *     timeout: 10s
 *     apps:
 *       refund-guide:
 *         mode: workflow                       # workflow (/workflows/run) or chat (/chat-messages)
 *         apiKey: ${DIFY_REFUND_GUIDE_KEY}     # each Dify app has its own key
 *         responseMode: streaming              # or blocking (Dify Cloud cuts blocking calls at 100 s)
 *         inputs: { query: "{{ message.text }}", channel: "{{ message.channel }}" }
 * ```
 */
import { z } from 'zod';
import { callPolicyFields } from '../../resilience/config.ts';
import { issueParams, templateSchema } from '../../workflows/schema-helpers.ts';

export const sourceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'names may use letters, digits, - and _ only');

const difyAppSchema = z.strictObject({
  /** `workflow`: a Dify workflow app; `chat`: a chatbot / agent / chatflow app (keeps a conversation). */
  mode: z.enum(['workflow', 'chat']).default('workflow'),
  /** The app's API key, as `${ENV}`. */
  apiKey: z.string().default(''),
  /** Overrides `sources.dify.baseURL` for this app. */
  baseURL: z.url().optional(),
  responseMode: z.enum(['blocking', 'streaming']).default('blocking'),
  /** The app's input variables, as templates over the message and the run (`steps`, `vars`). */
  inputs: z.record(z.string(), templateSchema).default({}),
  /** Chat apps: the question. Default: the message text. */
  query: templateSchema.optional(),
  /** Dify's `user` (an end-user id, required by the API). Default: `<channel>:<sender id>`. */
  user: templateSchema.optional(),
  /** Workflow apps: the output variable holding the answer. Default: the first of answer, text, result, output. */
  answer: z.string().min(1).optional(),
  ...callPolicyFields,
});
export type DifyAppConfig = z.output<typeof difyAppSchema>;

export const difySourceSchema = z
  .strictObject({
    /** Off: `dify` steps fail at once (so their `fallback` answers) without calling anything. */
    enabled: z.boolean().default(true),
    baseURL: z.url().default('https://api.dify.ai/v1'),
    apps: z.record(sourceNameSchema, difyAppSchema).default({}),
    ...callPolicyFields,
  })
  .superRefine((v, ctx) => {
    if (!v.enabled) return;
    for (const [name, app] of Object.entries(v.apps)) {
      if (app.apiKey.trim() === '')
        ctx.addIssue({
          code: 'custom',
          path: ['apps', name, 'apiKey'],
          message: `dify app "${name}" needs an apiKey (write \${ENV_VAR}) while dify is enabled`,
          params: issueParams(),
        });
    }
  });
export type DifySourceConfig = z.output<typeof difySourceSchema>;
