/**
 * An agent's reply (see conversation-reply.ts for how it travels). Only the agent who owns the
 * conversation may reply. The console's client message id makes the idempotency key, so a resent
 * click (or a retried request) is one message.
 */
import type { AgentIdentity } from '../agents/agent-auth.ts';
import { NotFoundError } from '../errors.ts';
import type { OutboundMessage } from '../messages.ts';
import { type ConversationReplyDeps, replyInConversation } from './conversation-reply.ts';
import { HandoffConflictError } from './handoff-service.ts';

export type AgentReplyDeps = ConversationReplyDeps;

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
  const message = await replyInConversation(deps, conversation, {
    text: input.text,
    author: 'agent',
    idempotencyKey,
    agent: { id: agent.id, name: agent.name },
  });
  if (!message) {
    throw new HandoffConflictError(
      'the visitor has not written yet: there is nowhere to reply to',
      conversation,
    );
  }
  return { message, duplicate: false };
}
