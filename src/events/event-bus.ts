/**
 * Conversation events over Redis pub/sub, so a reply produced by a worker process reaches the
 * ingress process that holds the visitor's SSE stream or WebSocket (and, later, agent consoles).
 * Pub/sub is fire-and-forget: anything that must survive a disconnect is also in the store, and
 * clients catch up from there (SSE `Last-Event-ID`, `GET /v1/chat/history`).
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OutboundMessage } from '../messages.ts';
import { redisKey } from '../queue/names.ts';

export type ConversationEvent =
  | { type: 'reply'; message: OutboundMessage }
  | { type: 'typing'; on: boolean }
  /** A workflow run finished for one inbound message: these are the reply ids it produced. */
  | { type: 'run'; inboundId: string; status: string; replyIds: string[] }
  | {
      type: 'state';
      state: string;
      assignee?: string | null;
      agentName?: string | null;
      queue?: string | null;
    }
  /** A message was recorded (a visitor's, or an agent's before delivery): consoles refresh from the store. */
  | { type: 'recorded'; messageId: string; direction: 'in' | 'out'; author: string }
  | { type: 'closed' }
  /**
   * A piece of an answer still being written (an `llm` step streaming to the web chat). Not stored:
   * the finished answer follows as a normal `reply`, which clients show in place of the pieces.
   */
  | { type: 'delta'; inReplyTo: string; streamId: string; index: number; text: string; done?: boolean };

export type ConversationListener = (event: ConversationEvent) => void;
/** A firehose listener: events of every conversation (for agent consoles). */
export type FirehoseListener = (conversationId: string, event: ConversationEvent) => void;

/** What the firehose carries: what a console shows. Typing and streamed tokens stay per conversation. */
const FIREHOSE_EVENTS: ReadonlySet<string> = new Set(['reply', 'run', 'state', 'closed', 'recorded']);

export class EventBus {
  private readonly local = new EventEmitter();
  private readonly counts = new Map<string, number>();

  /**
   * @param publisher any connection (commands)
   * @param subscriber a connection dedicated to subscriptions (Redis requires one), or undefined
   *   in processes that only publish (workers)
   */
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis | undefined,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.local.setMaxListeners(0);
    subscriber?.on('message', (channel: string, payload: string) => {
      try {
        this.local.emit(channel, JSON.parse(payload) as ConversationEvent);
      } catch (err) {
        this.logger.warn({ err, channel }, 'dropped malformed conversation event');
      }
    });
  }

  channelOf(conversationId: string): string {
    return redisKey(this.prefix, 'conv', conversationId);
  }

  async publish(conversationId: string, event: ConversationEvent): Promise<void> {
    const payload = JSON.stringify(event);
    const own = this.publisher.publish(this.channelOf(conversationId), payload);
    if (!FIREHOSE_EVENTS.has(event.type)) return void (await own);
    const wrapped = `{"conversationId":${JSON.stringify(conversationId)},"event":${payload}}`;
    // Both commands go out together (one round trip); the firehose one is cheap when nobody listens.
    await Promise.all([own, this.publisher.publish(this.firehoseChannel(), wrapped)]);
  }

  firehoseChannel(): string {
    return redisKey(this.prefix, 'firehose');
  }

  /** Events of every conversation (see FIREHOSE_EVENTS). Resolves once Redis confirmed it. */
  subscribeAll(listener: FirehoseListener): Promise<() => Promise<void>> {
    return this.listen(
      this.firehoseChannel(),
      (payload: { conversationId: string; event: ConversationEvent }) =>
        listener(payload.conversationId, payload.event),
    );
  }

  /** Resolves once Redis confirmed the subscription, so no event published after it is missed. */
  subscribe(conversationId: string, listener: ConversationListener): Promise<() => Promise<void>> {
    return this.listen(this.channelOf(conversationId), listener);
  }

  /**
   * One Redis subscription per channel, shared by every local listener of it (counted): the
   * first listener subscribes, the last one to leave unsubscribes. Returns the listener's remover.
   */
  private async listen<T>(channel: string, handler: (payload: T) => void): Promise<() => Promise<void>> {
    if (!this.subscriber) throw new Error('this EventBus was created without a subscriber connection');
    this.local.on(channel, handler);
    const count = (this.counts.get(channel) ?? 0) + 1;
    this.counts.set(channel, count);
    if (count === 1) await this.subscriber.subscribe(channel);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.local.off(channel, handler);
      const left = (this.counts.get(channel) ?? 1) - 1;
      if (left > 0) {
        this.counts.set(channel, left);
        return;
      }
      this.counts.delete(channel);
      await this.subscriber?.unsubscribe(channel).catch(() => {});
    };
  }

  /** Open subscriptions (for tests and the memory benchmark). */
  subscriptionCount(): number {
    return this.counts.size;
  }
}
