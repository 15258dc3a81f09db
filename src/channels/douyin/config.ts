/**
 * The `type: douyin` block of hub.yaml: one Douyin Open Platform app (抖音开放平台) receiving an
 * authorized enterprise account's private messages (scope `im.direct_message`) by webhook.
 * Secrets come from `${ENV}` references.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';

/** http(s) base URL without a trailing slash (http and IP hosts are allowed for local fakes and proxies). */
const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const douyinConfigSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('douyin'),
  enabled: z.boolean().default(true),
  /** Client Key of the app (应用唯一标识). Messages our app sent carry it as `content.source`. */
  clientKey: z.string().min(1),
  /** Client Secret: signs every webhook (X-Douyin-Signature) and fetches tokens. */
  clientSecret: z.string().min(1),
  /**
   * Which token the reply API is called with:
   * - `client`: a client_token (`/oauth/client_token/`, 2 h), cached in Redis. Douyin documents
   *   client tokens for APIs that do not touch user data; private messages probably need `user`.
   * - `user`: the authorized account's access_token, refreshed from `refreshToken`
   *   (`/oauth/refresh_token/`, 15 days; the refresh token itself lasts 30 days).
   */
  auth: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('client') }),
      z.strictObject({ kind: z.literal('user'), refreshToken: z.string().min(1) }),
    ])
    .default({ kind: 'client' }),
  /** open_id of the authorized account (`open_id` query of the reply API); default: the event's `to_user_id`. */
  openId: z.string().min(1).optional(),
  /** Reply scene; `im_reply_msg` answers a user's message (about 24 h and a few replies per message). */
  scene: z.string().min(1).default('im_reply_msg'),
  /** Longer replies are split into several messages (each counts against the reply allowance). */
  maxTextLength: z.number().int().min(1).default(1000),
  /** Open API host; tests point it at a local fake. */
  apiBase: baseUrl.default('https://open.douyin.com'),
  /** Timeout of one Open API call. */
  requestTimeout: durationSchema.default(10_000),
});

export type DouyinConfigInput = z.input<typeof douyinConfigSchema>;
export type DouyinConfig = z.output<typeof douyinConfigSchema>;
