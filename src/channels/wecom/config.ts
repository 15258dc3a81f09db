/**
 * The `type: wecom` block of hub.yaml: one self-built WeCom app (企业微信自建应用), optionally
 * with WeChat Customer Service (微信客服) on the same callback URL.
 *
 * Secrets come from `${ENV}` references; the schema only checks their shape.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';

/** http(s) base URL without a trailing slash (http and IP hosts are allowed for local fakes and proxies). */
const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const wecomConfigSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('wecom'),
  enabled: z.boolean().default(true),
  /** 企业ID (My Company → Company Info). Also the receive id every callback must carry. */
  corpId: z.string().min(1),
  /** AgentId of the self-built app; YAML env interpolation yields a string, so digits are accepted. */
  agentId: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
  /** Callback Token (API 接收消息 → Token). */
  token: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'WeCom Token is 1–32 letters or digits'),
  /** Callback EncodingAESKey: 43 base64 characters (a 32-byte key without its trailing `=`). */
  encodingAESKey: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}$/, 'EncodingAESKey is 43 letters/digits')
    .refine(
      (k) => Buffer.from(`${k}=`, 'base64').length === 32,
      'EncodingAESKey does not decode to 32 bytes',
    ),
  /** App Secret, for `gettoken`. */
  secret: z.string().min(1),
  /** API host; tests point it at a local fake. */
  apiBase: baseUrl.default('https://qyapi.weixin.qq.com'),
  /**
   * Reject callbacks whose `timestamp` is further than this from our clock (replay guard).
   * WeCom retries within seconds, so minutes are plenty; `0` disables the check.
   */
  timestampTolerance: durationSchema.default(5 * 60_000),
  /** Timeout of one platform API call. */
  requestTimeout: durationSchema.default(10_000),
  /** Timeout of downloading one URL attachment, and of uploading it to WeCom (files go up to 20 MB). */
  mediaTimeout: durationSchema.default(60_000),
  kf: z
    .strictObject({
      /** Handle `kf_msg_or_event` callbacks: pull with kf/sync_msg, reply with kf/send_msg. */
      enabled: z.boolean().default(false),
      /** Secret with 微信客服 API rights; defaults to the app `secret` (an app granted kf access). */
      secret: z.string().min(1).optional(),
      /** `limit` of one sync_msg page (platform maximum 1000). */
      pageSize: z.number().int().min(1).max(1000).default(1000),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Per app and member (documented 30/min, 1000/h; excess is dropped by WeCom). */
      memberPerMinute: z.number().int().min(0).default(30),
      memberPerHour: z.number().int().min(0).default(1000),
      /** Per corp and API (documented 2000/min, 30000/h). */
      corpPerMinute: z.number().int().min(0).default(2000),
      corpPerHour: z.number().int().min(0).default(30000),
      /** Wait inline up to this long for a slot; longer waits go back to the queue with `retryAfterSec`. */
      maxInlineWait: durationSchema.default(2000),
    })
    .prefault({}),
});

export type WeComConfigInput = z.input<typeof wecomConfigSchema>;
export type WeComConfig = z.output<typeof wecomConfigSchema>;

/** 微信客服 calls use the kf secret when one is configured, else the app's. */
export function kfSecretOf(config: WeComConfig): string {
  return config.kf.secret ?? config.secret;
}
