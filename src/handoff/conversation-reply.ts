/**
 * A message the hub writes into a conversation outside a workflow run (an agent's reply, a system
 * notice): addressed like the visitor's newest message (its `replyTo` knows the chat, the session
 * webhook …), recorded and queued by the ReplyDispatcher like a bot reply, so it leaves through
 * the conversation's own channel with the outbound queue's retries, breakers and dead-lettering.
 */
import type { EventBus } from '../events/event-bus.ts';
import { type InboundMessage, newTraceId, type OutboundMessage, toOutboundMessage } from '../messages.ts';
import type { ReplyDispatcher } from '../queue/reply-dispatch.ts';
import type { Conversation, Store } from '../store/types.ts';

export interface ConversationReplyDeps {
  store: Store;
  dispatcher: ReplyDispatcher;
  bus: EventBus;
}

export interface ConversationReply {
  text: string;
  author: 'agent' | 'system';
  /** Same key ⇒ same message: a repeated request or sweep sends it once. */
  idempotencyKey: string;
  agent?: OutboundMessage['agent'];
}

/** Null when the visitor has not written yet: there is nowhere to send to. */
export async function replyInConversation(
  deps: ConversationReplyDeps,
  conversation: Pick<Conversation, 'id' | 'channel' | 'channelId'>,
  reply: ConversationReply,
): Promise<OutboundMessage | null> {
  const last = await deps.store.getLastInbound(conversation.id);
  if (!last) return null;
  const inbound = last.payload as InboundMessage;
  const message = toOutboundMessage({
    conversationId: conversation.id,
    channel: conversation.channel,
    channelId: conversation.channelId,
    replyTo: inbound.replyTo,
    kind: 'text',
    text: reply.text,
    idempotencyKey: reply.idempotencyKey,
    author: reply.author,
    ...(reply.agent ? { agent: reply.agent } : {}),
    traceId: newTraceId(),
  });
  await deps.dispatcher.dispatch([message]);
  // Consoles refresh the conversation on this; a lost event only delays them to the next refresh.
  await deps.bus
    .publish(conversation.id, {
      type: 'recorded',
      messageId: message.id,
      direction: 'out',
      author: reply.author,
    })
    .catch(() => {});
  return message;
}
