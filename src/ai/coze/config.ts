/**
 * The `sources.coze` block of hub.yaml: where Coze is, the token, and one entry per bot a
 * workflow talks to.
 *
 * ```yaml
 * sources:
 *   coze:
 *     enabled: true
 *     baseURL: https://api.coze.com          # coze.cn: https://api.coze.cn
 *     token: ${COZE_TOKEN}                   # a personal access token (PAT)
 *     timeout: 30s
 *     bots:
 *       after-sales: { botId: ${COZE_AFTER_SALES_BOT_ID} }
 * ```
 */
import { z } from 'zod';
import { callPolicyFields } from '../../resilience/config.ts';
import { issueParams, templateSchema } from '../../workflows/schema-helpers.ts';
import { sourceNameSchema } from '../dify/config.ts';

/** The public API; coze.cn accounts use `https://api.coze.cn`. */
export const COZE_DEFAULT_BASE_URL = 'https://api.coze.com';

const cozeBotSchema = z.strictObject({
  /** The bot's id (Coze shows it in the bot's URL), usually as `${ENV}`. */
  botId: z.string().default(''),
  /** Overrides `sources.coze.token` for this bot (a bot in another workspace). */
  token: z.string().optional(),
  /** Overrides `sources.coze.baseURL` for this bot. */
  baseURL: z.url().optional(),
  /** The question. Default: the message text. */
  query: templateSchema.optional(),
  /** Coze's `user_id`. Default: `<channel>:<sender id>`. */
  user: templateSchema.optional(),
  ...callPolicyFields,
});
export type CozeBotConfig = z.output<typeof cozeBotSchema>;

export const cozeSourceSchema = z
  .strictObject({
    /** Off: `coze` steps fail at once (so their `fallback` answers) without calling anything. */
    enabled: z.boolean().default(true),
    baseURL: z.url().default(COZE_DEFAULT_BASE_URL),
    /** Bearer token: a personal access token (or an OAuth access token), as `${ENV}`. */
    token: z.string().default(''),
    bots: z.record(sourceNameSchema, cozeBotSchema).default({}),
    ...callPolicyFields,
  })
  .superRefine((v, ctx) => {
    if (!v.enabled) return;
    for (const [name, bot] of Object.entries(v.bots)) {
      if (bot.botId.trim() === '')
        ctx.addIssue({
          code: 'custom',
          path: ['bots', name, 'botId'],
          message: `coze bot "${name}" needs a botId while coze is enabled`,
          params: issueParams(),
        });
      if ((bot.token ?? v.token).trim() === '')
        ctx.addIssue({
          code: 'custom',
          path: bot.token === undefined ? ['bots', name] : ['bots', name, 'token'],
          message: `coze bot "${name}" needs a token (write \${ENV_VAR}) while coze is enabled`,
          params: issueParams(),
        });
    }
  });
export type CozeSourceConfig = z.output<typeof cozeSourceSchema>;
