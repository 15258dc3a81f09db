/**
 * Nobody claimed it: a conversation queued for longer than `handoff.queueTimeout` returns to the
 * bot (event `timed_out`, data `{queue, waitMs}`), and the visitor is told so — instead of waiting
 * in silence for an agent who is not coming. The compare-and-set move makes each return happen
 * once however many ingress processes sweep; the notice's idempotency key (conversation + the
 * time it was queued) makes it one message even if a sweep is repeated.
 */
import type { Store } from '../store/types.ts';
import { type ConversationReplyDeps, replyInConversation } from './conversation-reply.ts';
import type { HandoffService } from './handoff-service.ts';

export interface QueueTimeoutDeps extends ConversationReplyDeps {
  store: Store;
  service: HandoffService;
  waitMs: number;
  notice: string;
}

/** One pass; returns how many conversations went back to the bot. */
export async function sweepQueueTimeouts(deps: QueueTimeoutDeps, now = Date.now()): Promise<number> {
  const stale = await deps.store.listQueuedSince(new Date(now - deps.waitMs).toISOString());
  let returned = 0;
  for (const conversation of stale) {
    if (!(await deps.service.queueTimeOut(conversation, deps.waitMs))) continue;
    returned++;
    await replyInConversation(deps, conversation, {
      text: deps.notice,
      author: 'system',
      idempotencyKey: `queue-timeout:${conversation.id}:${conversation.updatedAt}`,
    });
  }
  return returned;
}
