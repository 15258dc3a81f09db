/**
 * An agent's reply: recorded and queued through the ReplyDispatcher like a bot reply, so it
 * leaves through the conversation's own channel with the outbound queue's retries, breakers and
 * dead-lettering. The console's client message id makes the idempotency key, so a resent click
 * (or a retried request) is one message.
 */
import type { AgentIdentity } from '../agents/agent-auth.ts';
import { NotFoundError } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import { type InboundMessage, newTraceId, type OutboundMessage, toOutboundMessage } from '../messages.ts';
import type { ReplyDispatcher } from '../queue/reply-dispatch.ts';
import type { Store } from '../store/types.ts';
import { HandoffConflictError } from './handoff-service.ts';

export interface AgentReplyDeps {
  store: Store;
  dispatcher: ReplyDispatcher;
  bus: EventBus;
}

export async function sendAgentReply(
  deps: AgentReplyDeps,
  conversationId: string,
  agent: AgentIdentity,
  input: { text: string; clientMsgId: string },
): Promise<{ message: OutboundMessage; duplicate: boolean }> {
  const idempotencyKey = `agent:${conversationId}:${input.clientMsgId}`;
  const earlier = await deps.store.getDelivery(idempotencyKey);
  if (earlier) {
    const stored = await deps.store.getMessage(earlier.messageId);
    if (stored) return { message: stored.payload as OutboundMessage, duplicate: true };
  }
  const conversation = await deps.store.getConversation(conversationId);
  if (!conversation) throw new NotFoundError(`conversation ${conversationId} not found`);
  if (conversation.state !== 'agent' || conversation.assignee !== agent.id) {
    throw new HandoffConflictError('claim the conversation before replying', conversation);
  }
  // The newest inbound message knows where the channel delivers to (chat id, session webhook…).
  const last = await deps.store.getLastInbound(conversationId);
  if (!last)
    throw new HandoffConflictError(
      'the visitor has not written yet: there is nowhere to reply to',
      conversation,
    );
  const inbound = last.payload as InboundMessage;
  const message = toOutboundMessage({
    conversationId,
    channel: conversation.channel,
    channelId: conversation.channelId,
    replyTo: inbound.replyTo,
    kind: 'text',
    text: input.text,
    idempotencyKey,
    author: 'agent',
    agent: { id: agent.id, name: agent.name },
    traceId: newTraceId(),
  });
  await deps.dispatcher.dispatch([message]);
  await deps.bus
    .publish(conversationId, { type: 'recorded', messageId: message.id, direction: 'out', author: 'agent' })
    .catch(() => {});
  return { message, duplicate: false };
}
