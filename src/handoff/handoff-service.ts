/**
 * The hand-off state machine of a conversation, and the only code that moves it between humans
 * and the bot:
 *
 *   bot ──queue──▶ queued ──claim──▶ agent ──release / idle timeout──▶ bot
 *    └────────────claim (take over)────▶ │ ──transfer──▶ agent (another) or queued (another queue)
 *   queued ──wait timeout (nobody claimed it)──▶ bot
 *   any open state ──close──▶ closed          (a new visitor message reopens it as bot)
 *
 * Every move is one compare-and-set on the conversation row plus its event-log row, in one
 * statement (store.transitionWithEvent): two agents claiming at once cannot both win, and what
 * happened is always recorded. Consoles and the visitor hear about it on the event bus.
 */
import type { Logger } from 'pino';
import type { AgentIdentity } from '../agents/agent-auth.ts';
import { NotFoundError, SwitchboardError } from '../errors.ts';
import type { ConversationEvent, EventBus } from '../events/event-bus.ts';
import type { Conversation, ConversationState, HandoffTransition, Store } from '../store/types.ts';

/** The allowed moves: from which states, to which. */
export const TRANSITIONS = {
  queue: { from: ['bot'], to: 'queued' },
  claim: { from: ['queued', 'bot'], to: 'agent' },
  release: { from: ['agent'], to: 'bot' },
  transferToAgent: { from: ['agent'], to: 'agent' },
  transferToQueue: { from: ['agent'], to: 'queued' },
  close: { from: ['bot', 'queued', 'agent'], to: 'closed' },
  timeout: { from: ['agent'], to: 'bot' },
  queueTimeout: { from: ['queued'], to: 'bot' },
} as const satisfies Record<string, { from: readonly ConversationState[]; to: ConversationState }>;

/** 409: the conversation was not in a state that allows the move (someone else acted first). */
export class HandoffConflictError extends SwitchboardError {
  constructor(message: string, conversation: Conversation | null) {
    super('conflict', message, {
      status: 409,
      details: conversation ? { state: conversation.state, assignee: conversation.assignee } : {},
    });
  }
}

export interface HandoffServiceDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
}

export class HandoffService {
  constructor(private readonly deps: HandoffServiceDeps) {}

  /** bot → queued. Null when the conversation was not with the bot (already queued, say). */
  async enqueue(
    conversationId: string,
    opts: { queue: string; reason?: string; actor: string },
  ): Promise<Conversation | null> {
    const updated = await this.move(TRANSITIONS.queue, {
      conversationId,
      assignee: null,
      handoffQueue: opts.queue,
      event: {
        type: 'queued',
        actor: opts.actor,
        data: { queue: opts.queue, ...(opts.reason ? { reason: opts.reason } : {}) },
      },
    });
    if (updated) await this.announce(updated, { type: 'state', state: 'queued', queue: opts.queue });
    return updated;
  }

  /** queued (or bot: take over) → agent, owned by `agent`. Throws a 409 when someone else won. */
  async claim(conversationId: string, agent: AgentIdentity): Promise<Conversation> {
    const updated = await this.move(TRANSITIONS.claim, {
      conversationId,
      assignee: agent.id,
      event: { type: 'claimed', actor: agent.id },
    });
    if (!updated) throw await this.conflict(conversationId, 'claim');
    await this.announce(updated, {
      type: 'state',
      state: 'agent',
      assignee: agent.id,
      agentName: agent.name,
      queue: updated.handoffQueue,
    });
    return updated;
  }

  /** agent → bot. Only the owner may release, unless `force` (admins). */
  async release(
    conversationId: string,
    agent: AgentIdentity,
    opts: { force?: boolean } = {},
  ): Promise<Conversation> {
    const updated = await this.move(TRANSITIONS.release, {
      conversationId,
      ...(opts.force ? {} : { expectAssignee: agent.id }),
      assignee: null,
      handoffQueue: null,
      event: { type: 'released', actor: agent.id },
    });
    if (!updated) throw await this.conflict(conversationId, 'release');
    await this.announce(updated, { type: 'state', state: 'bot', assignee: null });
    return updated;
  }

  /** Hand an owned conversation to another agent, or back to a queue. */
  async transfer(
    conversationId: string,
    agent: AgentIdentity,
    target: { agent: AgentIdentity } | { queue: string },
    opts: { force?: boolean } = {},
  ): Promise<Conversation> {
    const guard = opts.force ? {} : { expectAssignee: agent.id };
    const toAgent = 'agent' in target;
    const updated = toAgent
      ? await this.move(TRANSITIONS.transferToAgent, {
          conversationId,
          ...guard,
          assignee: target.agent.id,
          event: { type: 'transferred', actor: agent.id, data: { to: target.agent.id } },
        })
      : await this.move(TRANSITIONS.transferToQueue, {
          conversationId,
          ...guard,
          assignee: null,
          handoffQueue: target.queue,
          event: { type: 'transferred', actor: agent.id, data: { queue: target.queue } },
        });
    if (!updated) throw await this.conflict(conversationId, 'transfer');
    await this.announce(
      updated,
      toAgent
        ? {
            type: 'state',
            state: 'agent',
            assignee: target.agent.id,
            agentName: target.agent.name,
            queue: updated.handoffQueue,
          }
        : { type: 'state', state: 'queued', assignee: null, queue: target.queue },
    );
    return updated;
  }

  /** Close: an agent may close a queued conversation or their own; admins (`force`) any. */
  async close(
    conversationId: string,
    agent: AgentIdentity,
    opts: { force?: boolean } = {},
  ): Promise<Conversation> {
    const current = await this.deps.store.getConversation(conversationId);
    if (!current) throw new NotFoundError(`conversation ${conversationId} not found`);
    if (current.state === 'agent' && current.assignee !== agent.id && !opts.force) {
      throw new HandoffConflictError(`conversation is owned by ${current.assignee}`, current);
    }
    const updated = await this.move(TRANSITIONS.close, {
      conversationId,
      // Only from what was checked above: a claim in between makes this a conflict, not a steal.
      from: [current.state],
      expectAssignee: current.assignee,
      assignee: null,
      event: { type: 'closed', actor: agent.id },
    });
    if (!updated) throw await this.conflict(conversationId, 'close');
    await this.announce(updated, { type: 'closed' });
    return updated;
  }

  /** agent → bot after silence; false when something happened meanwhile (a message, a release). */
  async timeOut(conversation: Conversation, idleMs: number): Promise<boolean> {
    const updated = await this.move(TRANSITIONS.timeout, {
      conversationId: conversation.id,
      expectAssignee: conversation.assignee,
      assignee: null,
      handoffQueue: null,
      event: { type: 'timed_out', actor: 'system', data: { agent: conversation.assignee, idleMs } },
    });
    if (updated) await this.announce(updated, { type: 'state', state: 'bot', assignee: null });
    return updated !== null;
  }

  /** queued → bot when no agent claimed it in time; false when something happened meanwhile. */
  async queueTimeOut(conversation: Conversation, waitMs: number): Promise<Conversation | null> {
    const updated = await this.move(TRANSITIONS.queueTimeout, {
      conversationId: conversation.id,
      assignee: null,
      handoffQueue: null,
      event: {
        type: 'timed_out',
        actor: 'system',
        data: { queue: conversation.handoffQueue, waitMs },
      },
    });
    if (updated) await this.announce(updated, { type: 'state', state: 'bot', assignee: null });
    return updated;
  }

  private move(
    rule: { from: readonly ConversationState[]; to: ConversationState },
    t: Omit<HandoffTransition, 'from' | 'to'> & { from?: ConversationState[] },
  ): Promise<Conversation | null> {
    const from = t.from ?? [...rule.from];
    return this.deps.store.transitionWithEvent({
      ...t,
      from: from.filter((s) => rule.from.includes(s)),
      to: rule.to,
    });
  }

  private async conflict(conversationId: string, what: string): Promise<SwitchboardError> {
    const current = await this.deps.store.getConversation(conversationId);
    if (!current) return new NotFoundError(`conversation ${conversationId} not found`);
    const owner = current.assignee ? ` (owned by ${current.assignee})` : '';
    return new HandoffConflictError(`cannot ${what}: the conversation is ${current.state}${owner}`, current);
  }

  /** The move is committed; a lost event only delays consoles until their next refresh. */
  private async announce(conversation: Conversation, event: ConversationEvent): Promise<void> {
    await this.deps.bus.publish(conversation.id, event).catch((err: unknown) => {
      this.deps.logger.warn({ err, conversationId: conversation.id }, 'could not publish a hand-off event');
    });
  }
}
