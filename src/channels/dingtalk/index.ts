/**
 * DingTalk (钉钉) app-robot channel. Stream mode: `start(runtime)` holds the connection and each
 * robot message is `runtime.ingest`ed, then acknowledged. HTTP mode: `POST /webhooks/dingtalk/:id`
 * with the `timestamp`/`sign` headers. Replies: session webhook, else the robot OpenAPI.
 */
import type { DWClientDownStream } from 'dingtalk-stream';
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
import { DingTalkApi } from './api.ts';
import { type DingTalkConfig, dingtalkConfigSchema } from './config.ts';
import { parseRobotMessage } from './parse.ts';
import { sendDingTalk } from './send.ts';
import { DingTalkStream } from './stream.ts';
import { verifyDingTalkSign } from './verify.ts';

export { type DingTalkConfig, dingtalkConfigSchema } from './config.ts';

export interface DingTalkAdapterOptions {
  /** Clock (ms) for the HTTP sign window and session-webhook expiry; default the request time / now. */
  now?: () => number;
}

export class DingTalkAdapter implements ChannelAdapter {
  readonly type = 'dingtalk';
  readonly id: string;
  readonly config: DingTalkConfig;
  readonly api: DingTalkApi;
  stream: DingTalkStream | undefined;
  readonly #deps: AdapterDeps;
  readonly #opts: DingTalkAdapterOptions;
  /** Requests verify() accepted; parse() verifies anything else itself. */
  readonly #verified = new WeakSet<WebhookRequest>();

  constructor(id: string, config: DingTalkConfig, deps: AdapterDeps, opts: DingTalkAdapterOptions = {}) {
    this.id = id;
    this.config = config;
    this.#deps = deps;
    this.#opts = opts;
    this.api = new DingTalkApi({
      apiBase: config.apiBase,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      timeoutMs: config.requestTimeout,
    });
  }

  verify(req: WebhookRequest): void {
    if (this.config.mode !== 'http') {
      throw new VerificationError(
        `dingtalk: channel "${this.id}" receives in stream mode; HTTP callbacks are refused`,
      );
    }
    if (req.method !== 'POST')
      throw new PayloadError(`dingtalk: method ${req.method} not allowed`, { status: 405 });
    verifyDingTalkSign(req.headers, {
      secret: this.config.appSecret ?? this.config.clientSecret,
      now: this.#opts.now?.() ?? req.receivedAt.getTime(),
      toleranceMs: this.config.signTolerance,
    });
    this.#verified.add(req);
  }

  parse(req: WebhookRequest): ParseResult {
    if (!this.#verified.has(req)) this.verify(req);
    const body = parseJsonBody(req, 'dingtalk: callback body');
    const parsed = parseRobotMessage(body, this.id, req.receivedAt);
    // An empty 200: the reply goes out asynchronously through the session webhook or the OpenAPI.
    if ('ignored' in parsed)
      return { messages: [], ignored: [parsed.ignored], response: { status: 200, body: '' } };
    return { messages: [parsed.draft], response: { status: 200, body: '' } };
  }

  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    return sendDingTalk(
      { api: this.api, config: this.config, logger: ctx.logger, now: this.#opts.now },
      message,
      ctx,
    );
  }

  /** Stream mode: take part in the per-app lease and hold the connection while we have it. */
  async start(runtime: AdapterRuntime): Promise<void> {
    if (this.config.mode !== 'stream' || this.stream) return;
    const logger = runtime.logger;
    this.stream = new DingTalkStream({
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      gatewayUrl: this.config.gatewayUrl,
      redis: this.#deps.redis,
      leaseKey: redisKey(this.#deps.keyPrefix, 'dingtalk', 'stream-lease', this.config.clientId),
      leaseTtlMs: this.config.stream.lockTtl,
      reconnectMinMs: this.config.stream.reconnectMin,
      reconnectMaxMs: this.config.stream.reconnectMax,
      keepAlive: this.config.stream.keepAlive,
      logger,
      onRobotMessage: (frame) => this.#onRobotMessage(frame, runtime, logger),
    });
    await this.stream.start();
  }

  async stop(): Promise<void> {
    await this.stream?.stop();
    this.stream = undefined;
  }

  health(): { ok: boolean; detail?: string } {
    if (this.config.mode !== 'stream') return { ok: true, detail: 'http mode' };
    return this.stream?.health() ?? { ok: false, detail: 'not started' };
  }

  /** Parse, ingest (with short retries), and tell the stream whether to acknowledge. */
  async #onRobotMessage(
    frame: DWClientDownStream,
    runtime: AdapterRuntime,
    logger: Logger,
  ): Promise<boolean> {
    let draft: InboundDraft;
    try {
      const parsed = parseRobotMessage(JSON.parse(frame.data), this.id, new Date());
      if ('ignored' in parsed) {
        logger.debug(
          { reason: parsed.ignored, messageId: frame.headers.messageId },
          'dingtalk robot message ignored',
        );
        return true;
      }
      draft = parsed.draft;
    } catch (err) {
      // A malformed frame will not improve on redelivery: acknowledge it, but say so loudly.
      logger.warn(
        { err, messageId: frame.headers.messageId },
        'dingtalk robot message unreadable; acknowledged and dropped',
      );
      return true;
    }
    return ingestWithRetry(runtime, draft, this.config.stream.ingestTimeout, logger);
  }
}

/**
 * Keep trying `ingest` for up to `timeoutMs` (Redis blips, a concurrent redelivery holding the
 * dedupe claim). false ⇒ not acknowledged: DingTalk may redeliver, and the hub's dedupe then decides.
 */
async function ingestWithRetry(
  runtime: AdapterRuntime,
  draft: InboundDraft,
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        runtime.ingest([draft]),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`ingest did not finish within ${timeoutMs} ms`)),
            Math.max(1, left),
          );
        }),
      ]);
      return true;
    } catch (err) {
      if (err instanceof PayloadError) {
        // The hub refused the draft itself: a redelivery would be refused again.
        logger.error(
          { err, msgId: draft.platformMessageId },
          'dingtalk robot message rejected by ingest; acknowledged',
        );
        return true;
      }
      const wait = Math.min(100 * 2 ** attempt, deadline - Date.now());
      if (wait <= 0 || runtime.signal.aborted) {
        logger.error(
          { err: errorMessage(err), msgId: draft.platformMessageId },
          'dingtalk robot message not queued; not acknowledged',
        );
        return false;
      }
      await new Promise((r) => setTimeout(r, wait));
    } finally {
      clearTimeout(timer);
    }
  }
}

export function createDingTalkAdapter(
  id: string,
  config: DingTalkConfig,
  deps: AdapterDeps,
  opts?: DingTalkAdapterOptions,
): DingTalkAdapter {
  return new DingTalkAdapter(id, config, deps, opts);
}

export const dingtalkChannel: ChannelType<DingTalkConfig> = {
  type: 'dingtalk',
  configSchema: dingtalkConfigSchema,
  create: (id, config, deps) => createDingTalkAdapter(id, config, deps),
};
