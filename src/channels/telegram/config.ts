/**
 * The `type: telegram` block of hub.yaml: one Telegram bot, receiving by webhook (Telegram POSTs
 * updates to `/webhooks/telegram/:id`) or by long polling (`getUpdates`, for development without a
 * public URL). Secrets come from `${ENV}` references.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';

/** http(s) base URL without a trailing slash (http and IP hosts are allowed for local fakes and proxies). */
const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const telegramConfigSchema = z
  .strictObject({
    id: z.string().min(1),
    type: z.literal('telegram'),
    enabled: z.boolean().default(true),
    /** Bot token from @BotFather (`<bot id>:<secret>`); the part before `:` is the bot's user id. */
    token: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'a bot token looks like 123456:ABC-DEF…'),
    /** `webhook`: Telegram calls our URL. `polling`: the hub calls getUpdates (no public URL needed). */
    mode: z.enum(['webhook', 'polling']).default('webhook'),
    /**
     * The `secret_token` given to setWebhook; Telegram echoes it in `X-Telegram-Bot-Api-Secret-Token`.
     * Required in webhook mode: without it anyone who learns the URL could inject updates.
     */
    secretToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'secret token: 1–256 characters of A-Z a-z 0-9 _ -')
      .optional(),
    /** When set (webhook mode), `start` registers this URL with setWebhook and the secret token. */
    webhookUrl: z.url({ protocol: /^https$/ }).optional(),
    /** The bot's @username, for mention detection in groups; fetched with getMe when absent. */
    botUsername: z
      .string()
      .regex(/^@?[A-Za-z0-9_]{3,64}$/)
      .transform((u) => u.replace(/^@/, ''))
      .optional(),
    /** Bot API root; tests point it at a local fake, self-hosted Bot API servers work too. */
    apiRoot: baseUrl.default('https://api.telegram.org'),
    /** Timeout of one Bot API call (getUpdates adds its long-poll time on top). */
    requestTimeout: durationSchema.default(10_000),
    groups: z
      .strictObject({
        /**
         * Which group messages become jobs: `mentioned` (the bot is @mentioned, replied to, or sent a
         * command), `all`, or `none` (the bot stays silent in groups). Private chats always count.
         */
        respondTo: z.enum(['mentioned', 'all', 'none']).default('mentioned'),
        /** Quote the user's message in group replies, so it is clear whom the bot answers. */
        quoteReplies: z.boolean().default(true),
      })
      .prefault({}),
    polling: z
      .strictObject({
        /** Long-poll wait of one getUpdates call, in seconds (Telegram allows up to 50). */
        timeoutSec: z.number().int().min(0).max(50).default(25),
        /** Updates per call (1–100). */
        limit: z.number().int().min(1).max(100).default(100),
        /** Backoff after a failed poll: starts here, doubles, capped at `backoffMax`. */
        backoffMin: durationSchema.default(1_000),
        backoffMax: durationSchema.default(30_000),
        /** Lease on "this process polls"; two pollers make Telegram answer 409 Conflict. */
        lockTtl: durationSchema.default(15_000),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'webhook' && !c.secretToken) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretToken'],
        message: 'webhook mode needs secretToken (the secret_token passed to setWebhook)',
      });
    }
  });

export type TelegramConfigInput = z.input<typeof telegramConfigSchema>;
export type TelegramConfig = z.output<typeof telegramConfigSchema>;

/** The bot's numeric user id: the token's part before the colon. */
export function botIdOf(token: string): number {
  return Number(token.slice(0, token.indexOf(':')));
}
