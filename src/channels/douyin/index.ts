/**
 * Douyin channel (抖音开放平台, enterprise-account private messages).
 *
 * Ingress: `POST /webhooks/douyin/:id` → `verify` (X-Douyin-Signature over the raw body, before
 * any parsing) → `parse` (the verify_webhook handshake echo, or an im_receive_msg draft; our own
 * messages are ignored). Egress: `send` through the IM reply API with a Redis-cached token.
 */

import { PayloadError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
import { parseJsonBody } from '../shared/json-body.ts';
import type {
  AdapterDeps,
  ChannelAdapter,
  ChannelType,
  ParseResult,
  SendContext,
  SendResult,
  WebhookRequest,
} from '../types.ts';
import { DouyinTokens } from './access-token.ts';
import { type DouyinConfig, douyinConfigSchema } from './config.ts';
import { parseDouyinEvent } from './parse.ts';
import { sendDouyin } from './send.ts';
import { verifyDouyinSignature } from './verify.ts';

export { type DouyinConfig, douyinConfigSchema } from './config.ts';
export { type DouyinReplyTo, parseDouyinEvent } from './parse.ts';
export { buildReplyBody } from './send.ts';
export { douyinSignature } from './verify.ts';

export class DouyinAdapter implements ChannelAdapter {
  readonly type = 'douyin';
  readonly id: string;
  readonly config: DouyinConfig;
  readonly tokens: DouyinTokens;
  readonly #deps: AdapterDeps;
  /** Requests verify() accepted; parse() verifies any other itself (never trust an unverified body). */
  readonly #verified = new WeakSet<WebhookRequest>();

  constructor(id: string, config: DouyinConfig, deps: AdapterDeps) {
    this.id = id;
    this.config = config;
    this.#deps = deps;
    this.tokens = new DouyinTokens(config, deps.redis, deps.keyPrefix);
  }

  verify(req: WebhookRequest): void {
    if (req.method !== 'POST')
      throw new PayloadError(`douyin: method ${req.method} not allowed`, { status: 405 });
    verifyDouyinSignature(req.headers, req.rawBody, this.config.clientSecret);
    this.#verified.add(req);
  }

  parse(req: WebhookRequest): ParseResult {
    if (!this.#verified.has(req)) this.verify(req);
    const body = parseJsonBody(req, 'douyin: event body');
    const parsed = parseDouyinEvent(body, {
      channelId: this.id,
      clientKey: this.config.clientKey,
      msgIdHeader: req.headers['msg-id'],
      receivedAt: req.receivedAt,
    });
    if ('challenge' in parsed) {
      // The handshake must be answered with the challenge echoed as JSON, same value and type.
      return {
        messages: [],
        response: {
          status: 200,
          body: JSON.stringify({ challenge: parsed.challenge }),
          headers: { 'content-type': 'application/json' },
        },
      };
    }
    if ('ignored' in parsed) return { messages: [], ignored: [parsed.ignored] };
    return { messages: [parsed.draft] };
  }

  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    return sendDouyin(
      {
        config: this.config,
        tokens: this.tokens,
        redis: this.#deps.redis,
        keyPrefix: this.#deps.keyPrefix,
        logger: ctx.logger,
      },
      message,
      ctx,
    );
  }
}

export function createDouyinAdapter(id: string, config: DouyinConfig, deps: AdapterDeps): DouyinAdapter {
  return new DouyinAdapter(id, config, deps);
}

export const douyinChannel: ChannelType<DouyinConfig> = {
  type: 'douyin',
  configSchema: douyinConfigSchema,
  create: (id, config, deps) => createDouyinAdapter(id, config, deps),
};
