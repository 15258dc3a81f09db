/**
 * What the AI step kinds (`dify`, `kb`, `orders`, `http`, `llm`, `coze`) reach through
 * `ctx.services.ai`: the sources config, the resilience layer, and lazily opened clients. The hub
 * and `simulate` each build one (see hub-sources.ts and simulate-sources.ts); tests build their
 * own with fakes on 127.0.0.1.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { SourceError } from '../resilience/errors.ts';
import type { Resilience } from '../resilience/guard.ts';
import type { Store } from '../store/types.ts';
import type { StepContext } from '../workflows/types.ts';
import type { KnowledgeBase } from './kb/index.ts';
import { createLlmClient, type LlmClient } from './llm/model.ts';
import { PromptFiles } from './llm/prompt-files.ts';
import type { OrderLookup } from './orders/lookup.ts';
import type { SourcesConfig } from './sources-config.ts';

/** A piece of a streamed answer, published to the conversation's clients. */
export interface Delta {
  /** The inbound message being answered. */
  inReplyTo: string;
  /** One per streamed answer: pieces with the same id belong together. */
  streamId: string;
  /** 0, 1, 2… in order. */
  index: number;
  text: string;
  /** Set on the last event of a stream (text empty); the final reply follows as a normal message. */
  done?: boolean;
}

/** Where streamed answers go: the web channel's event bus in the hub, nowhere in `simulate`. */
export interface DeltaSink {
  /** Whether messages of this channel type can show an answer while it is being written. */
  supports(channel: string): boolean;
  publish(conversationId: string, delta: Delta): void;
}

export interface AiRuntimeOptions {
  sources: SourcesConfig;
  configDir: string;
  resilience: Resilience;
  logger: Logger;
  /** Conversation history (llm) and per-conversation state (Dify and Coze conversation ids). */
  store?: Pick<Store, 'listMessages' | 'updateConversationMeta'>;
  /** Opens the knowledge base on first use; resolves null when there is none. */
  knowledgeBase?: () => Promise<KnowledgeBase | null>;
  orders?: () => Promise<OrderLookup | null>;
  deltas?: DeltaSink;
}

/** The sources as step kinds see them; one per process (hub or simulate). */
export class AiRuntime {
  readonly prompts: PromptFiles;
  readonly #llm = new Map<string, Promise<LlmClient>>();
  #kb?: Promise<KnowledgeBase | null>;
  #orders?: Promise<OrderLookup | null>;

  constructor(readonly opts: AiRuntimeOptions) {
    this.prompts = new PromptFiles(resolve(opts.configDir, opts.sources.llm?.promptsDir ?? 'prompts'));
  }

  get sources(): SourcesConfig {
    return this.opts.sources;
  }
  get resilience(): Resilience {
    return this.opts.resilience;
  }
  get store() {
    return this.opts.store;
  }
  get deltas(): DeltaSink | undefined {
    return this.opts.deltas;
  }

  /** The knowledge base, or a `disabled` SourceError when this hub has none. */
  async knowledgeBase(): Promise<KnowledgeBase> {
    this.#kb ??= this.opts.knowledgeBase?.() ?? Promise.resolve(null);
    const kb = await this.#kb;
    if (!kb) throw new SourceError('kb', 'disabled', 'no knowledge base is available in this process');
    return kb;
  }

  /** The order lookup, or a `disabled` SourceError naming what is missing. */
  async orders(): Promise<OrderLookup> {
    const cfg = this.sources.orders;
    if (!cfg) throw new SourceError('orders', 'disabled', 'no sources.orders block in hub.yaml');
    if (!cfg.enabled)
      throw new SourceError('orders', 'disabled', 'switched off in hub.yaml (sources.orders.enabled: false)');
    this.#orders ??= this.opts.orders?.() ?? Promise.resolve(null);
    const lookup = await this.#orders;
    if (!lookup)
      throw new SourceError('orders', 'disabled', 'the order database is not available in this process');
    return lookup;
  }

  /**
   * Open now what steps of these kinds will need (`simulate` does this before a run), so the
   * first such step is timed as in a running hub rather than paying for the opening. Failures
   * are left for the steps to report.
   */
  async warmUp(kinds: Iterable<string>): Promise<void> {
    const wanted = new Set(kinds);
    await Promise.all([
      wanted.has('kb') ? this.knowledgeBase().catch(() => undefined) : undefined,
      wanted.has('orders') ? this.orders().catch(() => undefined) : undefined,
    ]);
  }

  /** The client of a configured LLM, created on first use. */
  llm(name: string): Promise<LlmClient> {
    const cfg = this.sources.llm?.models[name];
    if (!cfg)
      return Promise.reject(
        new SourceError(`llm:${name}`, 'disabled', `no model "${name}" under sources.llm.models`),
      );
    let client = this.#llm.get(name);
    if (!client) {
      client = createLlmClient(`llm:${name}`, cfg);
      this.#llm.set(name, client);
    }
    return client;
  }
}

/** The runtime a step runs with; a clear error when the hub did not wire one. */
export function aiRuntimeOf(ctx: StepContext): AiRuntime {
  const rt = ctx.services.ai;
  if (rt instanceof AiRuntime) return rt;
  throw new SourceError(ctx.step.kind, 'disabled', 'this process has no AI sources wired (services.ai)');
}

/** A step's streamed answer on its way to the conversation's clients (see `openDeltaStream`). */
export interface DeltaStream {
  /** Whether pieces go anywhere: the step asked to stream and the channel can show it. */
  readonly active: boolean;
  /** Whether at least one piece was published. */
  readonly started: boolean;
  push(text: string): void;
  /** Tell clients the stream is over (even after a failure: the fallback's reply comes instead). */
  end(): void;
}

/**
 * The delta stream of the running step (`llm`, `coze`): pieces numbered in order under one
 * stream id per step and message, nothing at all in a dry run or on channels without streaming.
 */
export function openDeltaStream(rt: AiRuntime, ctx: StepContext, wanted: boolean): DeltaStream {
  const sink = wanted && !ctx.dryRun && rt.deltas?.supports(ctx.message.channel) ? rt.deltas : undefined;
  const streamId = `${ctx.message.id}:${ctx.step.id}`;
  let index = 0;
  const publish = (text: string, done?: true) =>
    sink?.publish(ctx.conversation.id, {
      inReplyTo: ctx.message.id,
      streamId,
      index: index++,
      text,
      ...(done ? { done } : {}),
    });
  return {
    active: sink !== undefined,
    get started() {
      return index > 0;
    },
    push: (text) => publish(text),
    end: () => {
      if (index > 0) publish('', true);
    },
  };
}
