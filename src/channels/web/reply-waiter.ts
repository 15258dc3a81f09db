/**
 * "Send and wait for the answer" for the web API: collect the replies of one inbound message as
 * they are delivered, until its workflow run has finished and every reply it produced arrived.
 *
 * A resent message (duplicate) may have been answered already, or be in flight: its replies are
 * then read from the store, re-checked until they are all delivered, alongside live events.
 */
import { SwitchboardError } from '../../errors.ts';
import type { ConversationEvent, EventBus } from '../../events/event-bus.ts';
import type { OutboundMessage } from '../../messages.ts';
import type { Store } from '../../store/types.ts';

export interface ReplyWaiter {
  /** Resolves with the replies in order; rejects with a 504 error past the deadline. */
  result(duplicate: boolean): Promise<OutboundMessage[]>;
  cancel(): Promise<void>;
}

const STORE_POLL_MS = 100;

export async function waitForReplies(
  deps: { bus: EventBus; store: Store },
  conversationId: string,
  inboundId: string,
  timeoutMs: number,
): Promise<ReplyWaiter> {
  const received = new Map<string, OutboundMessage>();
  let expected: string[] | undefined;
  let wake: () => void = () => {};
  const complete = () => expected !== undefined && expected.every((id) => received.has(id));
  const onEvent = (event: ConversationEvent) => {
    if (event.type === 'reply' && event.message.inReplyTo === inboundId) received.set(event.message.id, event.message);
    else if (event.type === 'run' && event.inboundId === inboundId) expected = event.replyIds;
    else return;
    wake();
  };
  const unsubscribe = await deps.bus.subscribe(conversationId, onEvent);

  /** What the store knows: the run's replies, and which of them were delivered. */
  const readStore = async () => {
    const [run] = await deps.store.listRuns({ inboundMessageId: inboundId, limit: 1 });
    if (!run || run.status === 'failed') return;
    const replies = (await deps.store.listReplies(inboundId)).map((m) => m.payload as OutboundMessage);
    const deliveries = await Promise.all(replies.map((m) => deps.store.getDelivery(m.idempotencyKey)));
    replies.forEach((m, i) => {
      if (deliveries[i]?.status === 'sent') received.set(m.id, m);
    });
    expected ??= replies.map((m) => m.id);
  };

  return {
    async result(duplicate) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (duplicate) await readStore();
        if (complete()) return expected!.map((id) => received.get(id)!);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new SwitchboardError(
            'reply_timeout',
            `no reply within ${timeoutMs} ms; the message is queued and its replies will arrive on /v1/chat/events`,
            { status: 504, details: { message_id: inboundId } },
          );
        }
        // Wake on the next event, or (for duplicates, whose events may have gone by) on the next poll.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, duplicate ? Math.min(STORE_POLL_MS, left) : left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    cancel: unsubscribe,
  };
}
