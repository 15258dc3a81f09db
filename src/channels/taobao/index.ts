/**
 * Taobao / Qianniu channel: what the platform really offers.
 *
 * - TMC (`start`): trade and refund events over the message-service WebSocket, each ingested as an
 *   `event` job and confirmed to TMC only after it is queued (else handed back as failed).
 * - Bridge (`POST /webhooks/taobao/:id`): buyer chat forwarded by a Qianniu plugin/integration,
 *   TOP-signed; replies (`send`) go back to the bridge's callback URL, signed the same way.
 * - `TopClient`: signed TOP API calls, for the `orders` source (exported, not used on the request path).
 *
 * See docs/channels/taobao.md for what is and is not possible on Taobao.
 */
import type { Logger } from 'pino';
import { errorMessage, PayloadError, VerificationError } from '../../errors.ts';
import type { InboundDraft, OutboundMessage } from '../../messages.ts';
import { parseJsonBody } from '../shared/json-body.ts';
import { redisKey } from '../shared/keys.ts';
import type {
  AdapterDeps,
  AdapterRuntime,
  ChannelAdapter,
  ChannelType,
  ParseResult,
  SendContext,
  SendResult,
  WebhookRequest,
} from '../types.ts';
import { type TaobaoConfig, taobaoConfigSchema } from './config.ts';
import { parseBridgeMessage, parseTmcPush } from './parse.ts';
import { sendTaobao } from './send.ts';
import { TmcClient, type TmcPush } from './tmc-client.ts';
import { TopClient } from './top-client.ts';
import { verifyBridgeRequest } from './verify.ts';

export { type TaobaoConfig, taobaoConfigSchema } from './config.ts';
export { parseBridgeMessage, parseTmcPush, type TaobaoReplyTo } from './parse.ts';
export { buildBridgeReply } from './send.ts';
export { DEFAULT_TRADE_FIELDS, parseTopJson, TopApiError, TopClient, type TopTrade } from './top-client.ts';
export { topSign, topTimestamp } from './top-sign.ts';
export { signedBridgeQuery } from './verify.ts';

export interface TaobaoAdapterOptions {
  /** Clock for the bridge timestamp window and signatures; default the request time / now. */
  now?: () => number;
}

export class TaobaoAdapter implements ChannelAdapter {
  readonly type = 'taobao';
  readonly id: string;
  readonly config: TaobaoConfig;
  /** Signed TOP API client for this app (order lookups pass the shop's session). */
  readonly top: TopClient;
  tmc: TmcClient | undefined;
  readonly #deps: AdapterDeps;
  /** Requests verify() accepted; parse() verifies any other itself (never trust an unverified body). */
  readonly #verified = new WeakSet<WebhookRequest>();
  readonly #opts: TaobaoAdapterOptions;

  constructor(id: string, config: TaobaoConfig, deps: AdapterDeps, opts: TaobaoAdapterOptions = {}) {
    this.id = id;
    this.config = config;
    this.#deps = deps;
    this.#opts = opts;
    this.top = new TopClient({
      appKey: config.appKey,
      appSecret: config.appSecret,
      gateway: config.topGateway,
      timeoutMs: config.requestTimeout,
      now: opts.now ? () => new Date(opts.now!()) : undefined,
    });
  }

  verify(req: WebhookRequest): void {
    const bridge = this.config.bridge;
    if (!bridge)
      throw new VerificationError(
        `taobao: channel "${this.id}" has no bridge configured; webhook calls are refused`,
      );
    if (req.method !== 'POST')
      throw new PayloadError(`taobao: method ${req.method} not allowed`, { status: 405 });
    verifyBridgeRequest(req.query, req.rawBody, {
      bridge,
      appKey: bridge.appKey ?? this.config.appKey,
      now: this.#opts.now?.() ?? req.receivedAt.getTime(),
    });
    this.#verified.add(req);
  }

  parse(req: WebhookRequest): ParseResult {
    if (!this.#verified.has(req)) this.verify(req);
    const body = parseJsonBody(req, 'taobao bridge: body');
    const parsed = parseBridgeMessage(body, {
      channelId: this.id,
      sellerNick: this.config.sellerNick,
      receivedAt: req.receivedAt,
    });
    const response = {
      status: 200,
      body: '{"success":true}',
      headers: { 'content-type': 'application/json' },
    };
    return 'ignored' in parsed
      ? { messages: [], ignored: [parsed.ignored], response }
      : { messages: [parsed.draft], response };
  }

  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    const now = this.#opts.now;
    return sendTaobao(
      {
        bridge: this.config.bridge,
        appKey: this.config.appKey,
        requestTimeoutMs: this.config.requestTimeout,
        now: now ? () => new Date(now()) : undefined,
      },
      message,
      ctx,
    );
  }

  /** Hold the TMC connection (one process per app and group) and ingest what it pushes. */
  async start(runtime: AdapterRuntime): Promise<void> {
    const t = this.config.tmc;
    if (!t.enabled || this.tmc) return;
    this.tmc = new TmcClient({
      url: t.url,
      appKey: this.config.appKey,
      appSecret: this.config.appSecret,
      groupName: t.groupName,
      sdk: t.sdk,
      redis: this.#deps.redis,
      leaseKey: redisKey(this.#deps.keyPrefix, 'taobao', this.config.appKey, 'tmc-lease', t.groupName),
      leaseTtlMs: t.lockTtl,
      pullIntervalMs: t.pullInterval,
      heartbeatMs: t.heartbeat,
      handshakeTimeoutMs: t.handshakeTimeout,
      reconnectMinMs: t.reconnectMin,
      reconnectMaxMs: t.reconnectMax,
      logger: runtime.logger,
      now: this.#opts.now,
      onMessage: (push) => this.#onPush(push, runtime),
    });
    this.tmc.start();
  }

  async stop(): Promise<void> {
    await this.tmc?.stop();
    this.tmc = undefined;
  }

  health(): { ok: boolean; detail?: string } {
    if (!this.config.tmc.enabled) return { ok: true, detail: 'tmc disabled' };
    return this.tmc?.health() ?? { ok: false, detail: 'not started' };
  }

  /** true ⇒ confirm to TMC. Ignored and unreadable pushes are confirmed too: redelivery cannot help them. */
  async #onPush(push: TmcPush, runtime: AdapterRuntime): Promise<boolean> {
    let draft: InboundDraft;
    try {
      const parsed = parseTmcPush(push, {
        channelId: this.id,
        sellerNick: this.config.sellerNick,
        topics: this.config.tmc.topics,
        receivedAt: new Date(),
      });
      if ('ignored' in parsed) {
        runtime.logger.debug({ reason: parsed.ignored, id: push.id }, 'taobao tmc message ignored');
        return true;
      }
      draft = parsed.draft;
    } catch (err) {
      runtime.logger.warn(
        { err: errorMessage(err), id: push.id, topic: push.topic },
        'taobao tmc message unreadable; confirmed and dropped',
      );
      return true;
    }
    return ingestWithin(runtime, draft, this.config.tmc.ingestTimeout, runtime.logger);
  }
}

/** Keep trying `ingest` for up to `timeoutMs` (Redis blips); false ⇒ TMC is told to push it again. */
async function ingestWithin(
  runtime: AdapterRuntime,
  draft: InboundDraft,
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await runtime.ingest([draft]);
      return true;
    } catch (err) {
      if (err instanceof PayloadError) {
        logger.error(
          { err: errorMessage(err), id: draft.platformMessageId },
          'taobao tmc message refused by ingest; confirmed',
        );
        return true;
      }
      const wait = Math.min(100 * 2 ** attempt, deadline - Date.now());
      if (wait <= 0 || runtime.signal.aborted) {
        logger.error(
          { err: errorMessage(err), id: draft.platformMessageId },
          'taobao tmc message not queued; handed back to TMC',
        );
        return false;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export function createTaobaoAdapter(
  id: string,
  config: TaobaoConfig,
  deps: AdapterDeps,
  opts?: TaobaoAdapterOptions,
): TaobaoAdapter {
  return new TaobaoAdapter(id, config, deps, opts);
}

export const taobaoChannel: ChannelType<TaobaoConfig> = {
  type: 'taobao',
  configSchema: taobaoConfigSchema,
  create: (id, config, deps) => createTaobaoAdapter(id, config, deps),
};
