/**
 * What the worker's inbound handler asks about hand-off (src/queue/handle-inbound.ts): did the
 * visitor ask for a human, did the bot stay unsure too long, and is anyone there to answer.
 * Keeping the policy here leaves the handler a short sequence of steps.
 */
import type { AgentPresence } from '../agents/presence.ts';
import type { HandoffConfig } from '../config/hub-schema.ts';
import type { InboundMessage } from '../messages.ts';
import type { Conversation, StepRecord, Store } from '../store/types.ts';
import { isWithinHours } from './business-hours.ts';
import { type ConfidenceStreak, nextStreak, runConfidence } from './confidence.ts';
import type { HandoffService } from './handoff-service.ts';
import { compileKeywords, type KeywordMatcher } from './keywords.ts';

export interface HandoffHooksDeps {
  config: HandoffConfig;
  service: HandoffService;
  store: Store;
  /** Told to the visitor on a keyword or low-confidence hand-off (`replies.handoff`). */
  handoffReply: string;
  /** Who has a console open; without it, agents always count as online. */
  presence?: AgentPresence;
  now?: () => Date;
}

/** A hand-off the handler should apply: where to, why, and a record for the run trace. */
export interface HandoffDecision {
  queue: string;
  reason: string;
  actor: string;
  step: StepRecord;
}

export class HandoffHooks {
  private readonly matchKeyword: KeywordMatcher;

  constructor(private readonly deps: HandoffHooksDeps) {
    this.matchKeyword = compileKeywords(deps.config.keywords);
  }

  get reply(): string {
    return this.deps.handoffReply;
  }

  /** A keyword hand-off for this message, checked before any workflow runs. */
  requested(message: InboundMessage): HandoffDecision | null {
    if (message.kind !== 'text') return null;
    const keyword = this.matchKeyword(message.text);
    if (!keyword) return null;
    const queue = this.deps.config.keywordQueue;
    return {
      queue,
      reason: `visitor asked for a human ("${keyword}")`,
      actor: 'keyword',
      step: { id: 'handoff-keyword', kind: 'handoff', status: 'ok', ms: 0, output: { queue, keyword } },
    };
  }

  /**
   * Count a finished bot run towards the low-confidence streak (kept in the conversation's meta);
   * a decision when the streak is long enough.
   */
  async observeRun(
    conversation: Conversation,
    message: InboundMessage,
    run: { vars: Record<string, unknown>; steps: StepRecord[] },
  ): Promise<HandoffDecision | null> {
    const rule = this.deps.config.lowConfidence;
    if (rule.runs <= 0) return null;
    const confidence = runConfidence(run);
    const previous = conversation.meta.lowConfidence as ConfidenceStreak | undefined;
    const { streak, handoff } = nextStreak(previous, message.id, confidence, rule);
    if (streak !== previous)
      await this.deps.store.updateConversationMeta(conversation.id, { lowConfidence: streak });
    if (!handoff) return null;
    return {
      queue: rule.queue,
      reason: `${rule.runs} answers in a row with confidence below ${rule.threshold}`,
      actor: 'low_confidence',
      step: {
        id: 'handoff-low-confidence',
        kind: 'handoff',
        status: 'ok',
        ms: 0,
        output: { queue: rule.queue, confidence, threshold: rule.threshold, runs: rule.runs },
      },
    };
  }

  /** bot → queued; false when it was not with the bot any more. */
  async apply(
    conversation: Conversation,
    decision: Pick<HandoffDecision, 'queue' | 'reason' | 'actor'>,
  ): Promise<boolean> {
    const moved = await this.deps.service.enqueue(conversation.id, decision);
    return moved !== null;
  }

  /** What to add to the hand-off reply when nobody can answer soon: out of hours, or no agent online. */
  async availabilityNotice(): Promise<string | null> {
    const { config, presence } = this.deps;
    if (!isWithinHours(config.hours, this.deps.now?.() ?? new Date())) return config.messages.outOfHours;
    if (presence && (await presence.online()).length === 0) return config.messages.noAgentOnline;
    return null;
  }
}
