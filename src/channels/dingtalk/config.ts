/**
 * The `type: dingtalk` block of hub.yaml: one DingTalk app robot (企业内部应用机器人), receiving in
 * Stream mode (a WebSocket the hub opens; no public URL needed) or HTTP mode (DingTalk POSTs to
 * `/webhooks/dingtalk/:id`). Secrets come from `${ENV}` references.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';

/** http(s) base URL without a trailing slash (http and IP hosts are allowed for local fakes and proxies). */
const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

export const dingtalkConfigSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('dingtalk'),
  enabled: z.boolean().default(true),
  /** `stream`: the hub holds a Stream-mode connection. `http`: DingTalk calls our webhook URL. */
  mode: z.enum(['stream', 'http']).default('stream'),
  /** Client ID (formerly AppKey). */
  clientId: z.string().min(1),
  /** Client Secret (formerly AppSecret). */
  clientSecret: z.string().min(1),
  /** Robot code for OpenAPI sends; messages carry their own, this is the fallback (usually = clientId). */
  robotCode: z.string().min(1).optional(),
  /** Key of the HTTP-mode `sign` header; defaults to clientSecret (the app secret). */
  appSecret: z.string().min(1).optional(),
  /** New-style OpenAPI host (oauth2/accessToken, robot/*, Stream gateway). */
  apiBase: baseUrl.default('https://api.dingtalk.com'),
  /** Legacy host; session webhooks must point at it (anything else is refused: they come from payloads). */
  oapiBase: baseUrl.default('https://oapi.dingtalk.com'),
  /** Stream gateway `connections/open` URL; only for tests and egress proxies. */
  gatewayUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** HTTP mode: max |now − timestamp header| (DingTalk documents one hour). */
  signTolerance: durationSchema.default(3_600_000),
  /** Stop using a session webhook this long before DingTalk says it expires. */
  sessionWebhookMargin: durationSchema.default(60_000),
  /** Timeout of one platform API call. */
  requestTimeout: durationSchema.default(10_000),
  stream: z
    .strictObject({
      /** Lease on "this process holds the stream"; renewed every third of it. */
      lockTtl: durationSchema.default(15_000),
      /** Reconnect backoff: starts here, doubles per failure (with jitter), capped at `reconnectMax`. */
      reconnectMin: durationSchema.default(1_000),
      reconnectMax: durationSchema.default(60_000),
      /** A robot message not accepted by the queue within this time is not acknowledged. */
      ingestTimeout: durationSchema.default(10_000),
      /** WebSocket ping every 8 s; a missing pong drops and re-opens the connection. */
      keepAlive: z.boolean().default(true),
    })
    .prefault({}),
});

export type DingTalkConfigInput = z.input<typeof dingtalkConfigSchema>;
export type DingTalkConfig = z.output<typeof dingtalkConfigSchema>;
