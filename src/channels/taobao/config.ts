/**
 * The `type: taobao` block of hub.yaml: one Taobao Open Platform app (TOP) for one shop.
 *
 * - `tmc`: the message service connection (trade and refund events, pushed over a WebSocket).
 * - `bridge`: buyer chat forwarded by a Qianniu plugin or integration you run (there is no public
 *   real-time push of Wangwang chat); its requests are TOP-signed, replies go to its callback URL.
 * - `topGateway`: the REST gateway of the exported TOP client (order lookups).
 *
 * Secrets come from `${ENV}` references.
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';
import { TOP_SIGN_METHODS } from './top-sign.ts';

export const taobaoConfigSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('taobao'),
  enabled: z.boolean().default(true),
  /** App Key / App Secret of the TOP app (TMC handshake, TOP API signatures). */
  appKey: z.string().min(1),
  appSecret: z.string().min(1),
  /** The shop's nick, used when an event does not name the seller. */
  sellerNick: z.string().min(1).optional(),
  /** TOP REST gateway (`https://gw.api.taobao.com/router/rest` also works); tests use a fake. */
  topGateway: z.url({ protocol: /^https?$/ }).default('https://eco.taobao.com/router/rest'),
  /** Timeout of one outbound HTTP call (TOP API, bridge callback). */
  requestTimeout: durationSchema.default(10_000),
  tmc: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Production `ws://mc.api.taobao.com/`; sandbox `ws://mc.api.tbsandbox.com/`. */
      url: z.url({ protocol: /^wss?$/ }).default('ws://mc.api.taobao.com/'),
      /** Message group (消息分组); `default` unless you split consumers in the console. */
      groupName: z.string().min(1).default('default'),
      /** Topics that become `event` jobs; empty = every subscribed topic. Others are confirmed and dropped. */
      topics: z.array(z.string().min(1)).default([]),
      /** Ask for waiting messages this often (and right after every connect). */
      pullInterval: durationSchema.default(5_000),
      /** WebSocket ping period; a missing pong reconnects. */
      heartbeat: durationSchema.default(30_000),
      handshakeTimeout: durationSchema.default(10_000),
      reconnectMin: durationSchema.default(1_000),
      reconnectMax: durationSchema.default(60_000),
      /** Lease on "this process holds the connection". */
      lockTtl: durationSchema.default(15_000),
      /** A message not accepted by the queue within this time is handed back as failed (TMC pushes it again). */
      ingestTimeout: durationSchema.default(10_000),
      /** `sdk` field of the handshake. */
      sdk: z.string().default('switchboard-tmc/1'),
    })
    .prefault({}),
  bridge: z
    .strictObject({
      /** Key the bridge sends as `app_key`; defaults to `appKey`. */
      appKey: z.string().min(1).optional(),
      /** Secret both sides sign with; use a dedicated one, not the TOP app secret. */
      secret: z.string().min(8),
      /** The only accepted `sign_method` (no downgrade to md5 unless configured). */
      signMethod: z.enum(TOP_SIGN_METHODS).default('hmac-sha256'),
      /** Where replies are POSTed (signed the same way). */
      callbackUrl: z.url({ protocol: /^https?$/ }),
      /** Max |now − timestamp| of a bridge request. */
      timestampTolerance: durationSchema.default(600_000),
    })
    .optional(),
});

export type TaobaoConfigInput = z.input<typeof taobaoConfigSchema>;
export type TaobaoConfig = z.output<typeof taobaoConfigSchema>;
export type TaobaoBridgeConfig = NonNullable<TaobaoConfig['bridge']>;
