/**
 * Telegram channel (Bot API through telegraf's client).
 *
 * Webhook mode: `POST /webhooks/telegram/:id` → `verify` (secret-token header, constant time) →
 * `parse` (the Update into a draft; no telegraf middleware on the request path, so Telegram gets
 * its 200 as soon as the update is queued). Polling mode: `start` runs getUpdates and ingests each
 * batch before advancing the offset. Replies: sendMessage / sendPhoto / sendDocument; typing via
 * sendChatAction.
 */
import { Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import { errorMessage, PayloadError, VerificationError } from '../../errors.ts';
import type { OutboundMessage } from '../../messages.ts';
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
import { botIdOf, type TelegramConfig, telegramConfigSchema } from './config.ts';
import { assertUpdate, parseTelegramUpdate, type TelegramBotIdentity, type TelegramParse } from './parse.ts';
import { TelegramPoller } from './polling.ts';
import { callOptions, sendTelegram, sendTelegramTyping, type TelegramSendDeps } from './send.ts';
import { verifyTelegramSecret } from './verify.ts';

export { type TelegramConfig, telegramConfigSchema } from './config.ts';
export { parseTelegramUpdate, type TelegramReplyTo } from './parse.ts';
export { splitTelegramText } from './send.ts';

/** Updates we subscribe to (setWebhook / getUpdates); the rest would only be ignored. */
const ALLOWED_UPDATES = ['message'] as const;

export class TelegramAdapter implements ChannelAdapter {
  readonly type = 'telegram';
  readonly id: string;
  readonly config: TelegramConfig;
  readonly telegram: Telegram;
  readonly bot: TelegramBotIdentity;
  poller: TelegramPoller | undefined;
  readonly #deps: AdapterDeps;
  /** Requests verify() accepted; parse() verifies any other itself (never trust an unverified body). */
  readonly #verified = new WeakSet<WebhookRequest>();
  #startup: Promise<void> = Promise.resolve();

  constructor(id: string, config: TelegramConfig, deps: AdapterDeps) {
    this.id = id;
    this.config = config;
    this.#deps = deps;
    // webhookReply off: every call is a real HTTP call whose result (or error) we see.
    this.telegram = new Telegram(config.token, { apiRoot: config.apiRoot, webhookReply: false });
    this.bot = { id: botIdOf(config.token), username: config.botUsername };
  }

  verify(req: WebhookRequest): void {
    if (this.config.mode !== 'webhook' || !this.config.secretToken) {
      throw new VerificationError(
        `telegram: channel "${this.id}" receives by polling; webhook calls are refused`,
      );
    }
    if (req.method !== 'POST')
      throw new PayloadError(`telegram: method ${req.method} not allowed`, { status: 405 });
    verifyTelegramSecret(req.headers, this.config.secretToken);
    this.#verified.add(req);
  }

  parse(req: WebhookRequest): ParseResult {
    if (!this.#verified.has(req)) this.verify(req);
    const body = parseJsonBody(req, 'telegram: update');
    const parsed = this.parseUpdate(assertUpdate(body), req.receivedAt);
    return 'ignored' in parsed ? { messages: [], ignored: [parsed.ignored] } : { messages: [parsed.draft] };
  }

  parseUpdate(update: Update, receivedAt: Date): TelegramParse {
    return parseTelegramUpdate(update, {
      channelId: this.id,
      bot: this.bot,
      respondTo: this.config.groups.respondTo,
      quoteReplies: this.config.groups.quoteReplies,
      receivedAt,
    });
  }

  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    return sendTelegram(this.#sendDeps(ctx), message, ctx);
  }

  sendTyping(replyTo: Record<string, unknown>, ctx: SendContext): Promise<void> {
    return sendTelegramTyping(this.#sendDeps(ctx), replyTo, ctx.signal);
  }

  /**
   * Learn the bot's username (group mentions) and, in webhook mode with `webhookUrl`, register the
   * webhook — in the background, so an unreachable Telegram never delays the hub's boot. In polling
   * mode, start the poller.
   */
  async start(runtime: AdapterRuntime): Promise<void> {
    const logger = runtime.logger;
    this.#startup = this.#identify(runtime.signal)
      .then(async () => {
        if (this.config.mode === 'webhook' && this.config.webhookUrl) await this.#setWebhook(runtime.signal);
      })
      .catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'telegram: startup call failed'));
    if (this.config.mode !== 'polling' || this.poller) return;
    const p = this.config.polling;
    this.poller = new TelegramPoller({
      telegram: this.telegram,
      redis: this.#deps.redis,
      leaseKey: redisKey(this.#deps.keyPrefix, 'telegram', this.bot.id, 'poll-lease'),
      leaseTtlMs: p.lockTtl,
      timeoutSec: p.timeoutSec,
      limit: p.limit,
      backoffMinMs: p.backoffMin,
      backoffMaxMs: p.backoffMax,
      requestTimeoutMs: this.config.requestTimeout,
      logger,
      beforePolling: async (signal) => {
        // getUpdates answers 409 while a webhook is set; pending updates stay queued at Telegram.
        /** @see https://core.telegram.org/bots/api#deletewebhook */
        await this.telegram.callApi(
          'deleteWebhook',
          { drop_pending_updates: false },
          callOptions(signal, this.config.requestTimeout),
        );
      },
      onUpdates: (updates) => this.#ingestBatch(updates, runtime),
    });
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
    this.poller = undefined;
  }

  /** Resolves when the background startup calls (getMe, setWebhook) are done; for tests and tools. */
  ready(): Promise<void> {
    return this.#startup;
  }

  health(): { ok: boolean; detail?: string } {
    if (this.config.mode === 'webhook') return { ok: true, detail: 'webhook mode' };
    return this.poller?.health() ?? { ok: false, detail: 'not started' };
  }

  /** Queue a batch in update order; an update the hub refuses is logged and skipped, not retried forever. */
  async #ingestBatch(updates: Update[], runtime: AdapterRuntime): Promise<void> {
    for (const raw of [...updates].sort((a, b) => a.update_id - b.update_id)) {
      let parsed: TelegramParse;
      try {
        parsed = this.parseUpdate(assertUpdate(raw), new Date());
      } catch (err) {
        runtime.logger.warn(
          { err: errorMessage(err), updateId: raw.update_id },
          'telegram: unreadable update skipped',
        );
        continue;
      }
      if ('ignored' in parsed) {
        runtime.logger.debug({ reason: parsed.ignored, updateId: raw.update_id }, 'telegram: update ignored');
        continue;
      }
      try {
        await runtime.ingest([parsed.draft]);
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err; // Redis trouble: fetch the batch again
        runtime.logger.error(
          { err: errorMessage(err), updateId: raw.update_id },
          'telegram: update refused by ingest; skipped',
        );
      }
    }
  }

  async #identify(signal: AbortSignal): Promise<void> {
    if (this.bot.username) return;
    /** @see https://core.telegram.org/bots/api#getme */
    const me = await this.telegram.callApi('getMe', {}, callOptions(signal, this.config.requestTimeout));
    this.bot.username = me.username;
  }

  async #setWebhook(signal: AbortSignal): Promise<void> {
    /** @see https://core.telegram.org/bots/api#setwebhook */
    await this.telegram.callApi(
      'setWebhook',
      {
        url: this.config.webhookUrl!,
        secret_token: this.config.secretToken,
        allowed_updates: [...ALLOWED_UPDATES],
      },
      callOptions(signal, this.config.requestTimeout),
    );
  }

  #sendDeps(ctx: SendContext): TelegramSendDeps {
    return {
      telegram: this.telegram,
      redis: this.#deps.redis,
      keyPrefix: this.#deps.keyPrefix,
      botId: this.bot.id,
      requestTimeoutMs: this.config.requestTimeout,
      logger: ctx.logger,
    };
  }
}

export function createTelegramAdapter(
  id: string,
  config: TelegramConfig,
  deps: AdapterDeps,
): TelegramAdapter {
  return new TelegramAdapter(id, config, deps);
}

export const telegramChannel: ChannelType<TelegramConfig> = {
  type: 'telegram',
  configSchema: telegramConfigSchema,
  create: (id, config, deps) => createTelegramAdapter(id, config, deps),
};
