/**
 * The channel adapter contract. One adapter per platform, one folder per adapter
 * (`src/channels/<type>/`), registered in `registry.ts`. See docs/adding-a-channel.md.
 *
 * The core is small: what every platform has (verify, parse, send). Stream-mode platforms add
 * `start`/`stop`; typing indicators and the like are optional capabilities.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EventBus } from '../events/event-bus.ts';
import type { InboundDraft, OutboundMessage } from '../messages.ts';
import type { Store } from '../store/types.ts';

/** A platform callback exactly as it arrived. `rawBody` is the unparsed bytes signatures are computed over. */
export interface WebhookRequest {
  method: string;
  /** Query parameters, already URL-decoded; a repeated key keeps its first value. */
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
}

export interface WebhookResponse {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * What `parse` found in one callback: messages to enqueue (possibly none, e.g. an ignored event)
 * and what to answer the platform once they are safely in Redis (a handshake echo, an empty 200…).
 */
export interface ParseResult {
  messages: InboundDraft[];
  /** Defaults to `200` with an empty body. */
  response?: WebhookResponse;
  /** Events deliberately ignored (counted in metrics, e.g. `unsupported:location`). */
  ignored?: string[];
}

/** Handed to an adapter's `send`. */
export interface SendContext {
  logger: Logger;
  signal: AbortSignal;
}

export interface SendResult {
  /** The platform's id for what was sent, when it returns one (kept in the delivery record). */
  platformMessageId?: string;
}

/** Handed to stream-mode adapters: they push what they receive through `ingest` (dedupe + enqueue). */
export interface AdapterRuntime {
  ingest(drafts: InboundDraft[]): Promise<IngestOutcome[]>;
  logger: Logger;
  signal: AbortSignal;
}

export interface IngestOutcome {
  id: string;
  dedupeKey: string;
  status: 'queued' | 'duplicate';
}

export interface ChannelAdapter {
  readonly type: string;
  /** The channel instance id from hub.yaml (one URL per instance: `/webhooks/:type/:id`). */
  readonly id: string;

  /** Check the callback is really from the platform. Pure and paranoid: throw `VerificationError`. */
  verify?(req: WebhookRequest): void | Promise<void>;
  /** Turn a verified callback into drafts. Throw `PayloadError` (400) naming the field on a bad payload. */
  parse?(req: WebhookRequest): ParseResult | Promise<ParseResult>;

  /** Deliver one reply. Throw `ChannelSendError` (retryable or not) when the platform refuses. */
  send(message: OutboundMessage, ctx: SendContext): Promise<SendResult>;

  /** Stream-mode platforms (DingTalk stream, Taobao TMC, Telegram polling): hold the connection. */
  start?(runtime: AdapterRuntime): Promise<void>;
  stop?(): Promise<void>;

  /** Optional capability: show "typing…" while a workflow runs. */
  sendTyping?(replyTo: Record<string, unknown>, ctx: SendContext): Promise<void>;
  /** Optional: connection state for `/readyz` (stream-mode adapters). */
  health?(): { ok: boolean; detail?: string };
}

/** What every adapter factory is given besides its own config. */
export interface AdapterDeps {
  /** Shared command connection (token caches, locks, rate limiters). */
  redis: Redis;
  /** Prefix for every Redis key the adapter writes: `${keyPrefix}:<type>:<id>:…`. */
  keyPrefix: string;
  store: Store;
  logger: Logger;
  /** Conversation events (the web channel delivers through it; others may publish typing). */
  bus: EventBus;
}

/** One entry of the registry: the config schema of the channel type and how to build an instance. */
export interface ChannelType<C = unknown> {
  type: string;
  /** zod schema of the instance's config block in hub.yaml (`id` and `type` are checked by the hub). */
  configSchema: z.ZodType<C>;
  create(id: string, config: C, deps: AdapterDeps): ChannelAdapter;
}
