/**
 * Turn reply drafts into recorded, queued outbound messages. Bot replies, the apology after a
 * dead-lettered message and (later) agent replies all leave through here, so they share the
 * outbound queue's retries, breakers and dead-lettering.
 *
 * The idempotency key is derived from what is being answered (inbound id + position), so a
 * re-run of the same job produces the same keys and the store/queue drop the repeats.
 */
import type { InboundMessage, OutboundMessage } from '../messages.ts';
import { toOutboundMessage } from '../messages.ts';
import type { Store } from '../store/types.ts';
import type { HubQueues } from './queues.ts';

export interface ReplyContent {
  kind: 'text' | 'markdown';
  text: string;
  attachments?: OutboundMessage['attachments'];
}

export class ReplyDispatcher {
  constructor(
    private readonly store: Store,
    private readonly queues: HubQueues,
  ) {}

  /** Build the outbound messages answering `inbound`, keyed `<inbound id>:<suffix><index>`. */
  answer(
    inbound: InboundMessage,
    replies: ReplyContent[],
    opts: { suffix?: string; author?: OutboundMessage['author'] } = {},
  ): OutboundMessage[] {
    return replies.map((reply, index) =>
      toOutboundMessage({
        conversationId: inbound.conversationId,
        channel: inbound.channel,
        channelId: inbound.channelId,
        replyTo: inbound.replyTo,
        kind: reply.kind,
        text: reply.text,
        attachments: reply.attachments,
        inReplyTo: inbound.id,
        idempotencyKey: `${inbound.id}:${opts.suffix ?? ''}${index}`,
        author: opts.author ?? 'bot',
        traceId: inbound.traceId,
      }),
    );
  }

  /** Record then enqueue, in order. Safe to repeat: both steps are keyed by the idempotency key. */
  async dispatch(messages: OutboundMessage[], receivedAt?: string): Promise<void> {
    for (const message of messages) {
      if (!(await this.store.recordOutbound(message))) {
        // Recorded by an earlier attempt of this job: re-add only if it never left the queue stage.
        const delivery = await this.store.getDelivery(message.idempotencyKey);
        if (delivery && delivery.status !== 'queued') continue;
      }
      await this.queues.addOutbound(message, receivedAt);
    }
  }

  /** Enqueue without recording: the last resort when the store itself is what failed. */
  async enqueueOnly(messages: OutboundMessage[]): Promise<void> {
    for (const message of messages) await this.queues.addOutbound(message);
  }
}
