/**
 * WeCom (企业微信) channel: self-built app callbacks plus WeChat Customer Service (微信客服).
 *
 * Ingress: `GET/POST /webhooks/wecom/:id` → `verify` (signature, timestamp, decrypt, receive id) →
 * `parse` (drafts; a `kf_msg_or_event` starts a background kf/sync_msg pull whose drafts go through
 * `runtime.ingest`). Egress: `send` via message/send or kf/send_msg, URL attachments uploaded first.
 */
import { UnavailableError } from '../../errors.ts';
import type { InboundDraft, OutboundMessage } from '../../messages.ts';
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
import { WeComApi } from './api.ts';
import { kfSecretOf, type WeComConfig, wecomConfigSchema } from './config.ts';
import { type KfSyncDeps, type KfSyncResult, syncKfMessages } from './kf-sync.ts';
import { KfSyncTrigger } from './kf-trigger.ts';
import { WeComMedia } from './media.ts';
import { parseWeComMessage } from './parse.ts';
import { sendWeCom } from './send.ts';
import { type VerifiedWeCom, verifyWeComRequest } from './verify.ts';

export { type WeComConfig, wecomConfigSchema } from './config.ts';
export { type KfSyncRequest, type KfSyncResult, syncKfMessages } from './kf-sync.ts';

export interface WeComAdapterOptions {
  /** Clock (ms) for the callback timestamp check (default: the request's `receivedAt`) and the rate limiter. */
  now?: () => number;
}

export class WeComAdapter implements ChannelAdapter {
  readonly type = 'wecom';
  readonly id: string;
  readonly config: WeComConfig;
  readonly api: WeComApi;
  readonly kf: KfSyncTrigger;
  /** URL attachments → media ids; one per adapter so concurrent sends share uploads. */
  readonly media: WeComMedia;
  readonly #deps: AdapterDeps;
  readonly #keyPrefix: string;
  readonly #opts: WeComAdapterOptions;
  /** verify() result handed to parse() for the same request object, so it is decrypted once. */
  readonly #verified = new WeakMap<WebhookRequest, VerifiedWeCom>();

  constructor(id: string, config: WeComConfig, deps: AdapterDeps, opts: WeComAdapterOptions = {}) {
    this.id = id;
    this.config = config;
    this.#deps = deps;
    this.#opts = opts;
    this.#keyPrefix = deps.keyPrefix;
    this.api = new WeComApi({
      apiBase: config.apiBase,
      corpId: config.corpId,
      redis: deps.redis,
      keyPrefix: this.#keyPrefix,
      timeoutMs: config.requestTimeout,
    });
    this.media = new WeComMedia({
      api: this.api,
      redis: deps.redis,
      keyPrefix: this.#keyPrefix,
      corpId: config.corpId,
      timeoutMs: config.mediaTimeout,
    });
    this.kf = new KfSyncTrigger(this.kfSyncDeps());
  }

  verify(req: WebhookRequest): void {
    const verified = verifyWeComRequest(req, {
      token: this.config.token,
      encodingAESKey: this.config.encodingAESKey,
      corpId: this.config.corpId,
      timestampToleranceMs: this.config.timestampTolerance,
      now: this.#opts.now?.() ?? req.receivedAt.getTime(),
    });
    this.#verified.set(req, verified);
  }

  async parse(req: WebhookRequest): Promise<ParseResult> {
    // Never trust a request verify() did not see: verify it here if the route skipped that step.
    if (!this.#verified.has(req)) this.verify(req);
    const verified = this.#verified.get(req)!;
    if (verified.kind === 'echo') {
      return {
        messages: [],
        response: {
          status: 200,
          body: verified.plaintext,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        },
      };
    }
    const parsed = parseWeComMessage(verified.plaintext, {
      channelId: this.id,
      agentId: this.config.agentId,
      receivedAt: req.receivedAt,
    });
    const ignored = [...parsed.ignored];
    for (const notice of parsed.kf) {
      if (!this.config.kf.enabled) {
        ignored.push('event:kf_msg_or_event(kf disabled)');
        continue;
      }
      // Recorded in Redis before we answer 200, pulled in the background (the platform waits 5 s).
      // Redis down: answer 503 so WeCom retries the callback rather than losing the notice.
      await this.kf.notify(notice.openKfId, notice.token).catch((err: unknown) => {
        throw new UnavailableError('wecom: cannot record the customer-service notice', { cause: err });
      });
    }
    // WeCom treats an empty 200 as "received, reply will come via the send API".
    return { messages: parsed.drafts, response: { status: 200, body: '' }, ignored };
  }

  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    return sendWeCom(
      {
        api: this.api,
        config: this.config,
        redis: this.#deps.redis,
        keyPrefix: this.#keyPrefix,
        logger: ctx.logger,
        media: this.media,
        now: this.#opts.now,
      },
      message,
      ctx,
    );
  }

  /** Gives the kf pull a place to put drafts, and resumes pulls a dead process left pending. */
  async start(runtime: AdapterRuntime): Promise<void> {
    if (!this.config.kf.enabled) return;
    this.kf.setIngest((drafts) => runtime.ingest(drafts));
    await this.kf.resumePending();
  }

  async stop(): Promise<void> {
    this.kf.setIngest(undefined);
    await this.kf.idle();
  }

  /** Everything `syncKfMessages` needs, for callers that run the pull themselves (e.g. from a job). */
  kfSyncDeps(signal?: AbortSignal): KfSyncDeps {
    return {
      api: this.api,
      redis: this.#deps.redis,
      keyPrefix: this.#keyPrefix,
      corpId: this.config.corpId,
      channelId: this.id,
      secret: kfSecretOf(this.config),
      pageSize: this.config.kf.pageSize,
      logger: this.#deps.logger,
      signal,
    };
  }

  /** Pull one account now and hand each page to `ingest` (the job-based alternative to `start`). */
  syncKf(
    openKfId: string,
    token: string | undefined,
    ingest: (d: InboundDraft[]) => Promise<unknown>,
  ): Promise<KfSyncResult> {
    return syncKfMessages(this.kfSyncDeps(), { openKfId, token }, ingest);
  }
}

export function createWeComAdapter(
  id: string,
  config: WeComConfig,
  deps: AdapterDeps,
  opts?: WeComAdapterOptions,
): WeComAdapter {
  return new WeComAdapter(id, config, deps, opts);
}

export const wecomChannel: ChannelType<WeComConfig> = {
  type: 'wecom',
  configSchema: wecomConfigSchema,
  create: (id, config, deps) => createWeComAdapter(id, config, deps),
};
