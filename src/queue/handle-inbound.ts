/**
 * What happens to one inbound message, once: record it, respect the conversation's state (the bot
 * stays silent while a human owns it), run the matching workflow, apply a hand-off, queue the
 * replies, record the run. Every write is keyed by the message id, so running it again after a
 * crash or a retry changes nothing that already happened.
 */
import type { Logger } from 'pino';
import type { AdapterSet } from '../channels/registry.ts';
import { SwitchboardError } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { HandoffDecision, HandoffHooks } from '../handoff/inbound-hooks.ts';
import type { InboundMessage, OutboundMessage } from '../messages.ts';
import { metrics } from '../metrics.ts';
import { traceWorkflowRun } from '../telemetry/workflow-spans.ts';
import type { Conversation, Store, WorkflowRun } from '../store/types.ts';
import { runWorkflow, type RunResult, type StepKindRegistry, type WorkflowCatalog } from '../workflows/index.ts';
import type { InboundHandler } from './inbound-processor.ts';
import type { InboundJobResult } from './job-types.ts';
import type { ReplyDispatcher } from './reply-dispatch.ts';

export interface InboundHandlerDeps {
  store: Store;
  catalog: WorkflowCatalog;
  kinds: StepKindRegistry;
  services: Record<string, unknown>;
  dispatcher: ReplyDispatcher;
  bus: EventBus;
  adapters: AdapterSet;
  logger: Logger;
  stepTimeoutMs: number;
  runTimeoutMs: number;
  /** Hand-off policy (keywords, low confidence, availability notices); without it only workflow hand-offs apply. */
  handoff?: HandoffHooks;
}

/** States in which a human (or the queue for one) owns the conversation: the bot stays silent. */
const HUMAN_STATES = new Set(['queued', 'agent']);

export function createInboundHandler(deps: InboundHandlerDeps): InboundHandler {
  return async (message, signal) => {
    const log = deps.logger.child({ traceId: message.traceId, messageId: message.id });
    const started = Date.now();
    let conversation = await deps.store.ensureConversation({
      id: message.conversationId,
      channel: message.channel,
      channelId: message.channelId,
    });
    if (await deps.store.recordInbound(message)) {
      // Agent consoles show visitor messages as they arrive, whoever owns the conversation.
      const recorded = {
        type: 'recorded',
        messageId: message.id,
        direction: 'in',
        author: 'visitor',
      } as const;
      await deps.bus
        .publish(message.conversationId, recorded)
        .catch((err: unknown) => log.debug({ err }, 'console event lost'));
    }
    if (conversation.state === 'closed') {
      // A new message on a closed conversation opens it again (platform chats never really end).
      conversation =
        (await deps.store.transitionConversation(conversation.id, ['closed'], 'bot', { assignee: null, handoffQueue: null })) ??
        conversation;
    }
    if (HUMAN_STATES.has(conversation.state)) {
      log.info({ state: conversation.state }, 'conversation is with a human; bot stays silent');
      await saveRun(deps, message, started, { workflow: null, status: 'silenced', steps: [], error: null });
      await publishRun(deps, message, 'silenced', []);
      return { status: 'silenced', workflow: null, replies: [] };
    }
    // "I want a human" wins over every workflow.
    const asked = deps.handoff?.requested(message);
    if (asked) return handOffOnRequest(deps, message, conversation, asked, started, log);

    const workflow = deps.catalog.current().match(message, conversation);
    if (!workflow) {
      log.warn('no workflow matched and no default workflow is configured');
      await saveRun(deps, message, started, { workflow: null, status: 'no_match', steps: [], error: null });
      await publishRun(deps, message, 'no_match', []);
      return { status: 'no_match', workflow: null, replies: [] };
    }

    void showTyping(deps, message, log);
    const traced = traceWorkflowRun(workflow.name, message.traceId);
    const result = await traced.run(() =>
      runWorkflow(
        workflow,
        { message, conversation },
        {
          kinds: deps.kinds,
          services: deps.services,
          logger: log,
          signal,
          stepTimeoutMs: deps.stepTimeoutMs,
          runTimeoutMs: deps.runTimeoutMs,
          onStep: traced.onStep,
        },
      ),
    );
    observe(result);
    if (result.status === 'failed') {
      await saveRun(deps, message, started, { workflow: result.workflow, status: 'failed', steps: result.steps, error: result.error ?? null });
      throw new SwitchboardError('workflow_failed', `workflow "${result.workflow}" failed: ${result.error}`, { retryable: true });
    }
    // A hand-off the workflow asked for, or one earned by a streak of unsure answers.
    const unsure = result.handoff ? null : await deps.handoff?.observeRun(conversation, message, result);
    const status = unsure ? 'handoff' : result.status;
    const steps = unsure ? [...result.steps, unsure.step] : result.steps;
    const handoff = result.handoff
      ? { queue: result.handoff.queue, reason: result.handoff.reason ?? 'workflow hand-off', actor: `workflow:${result.workflow}` }
      : unsure;
    const extra = handoff ? await applyHandoff(deps, message, conversation, handoff, log, Boolean(unsure)) : [];

    const replies = [...deps.dispatcher.answer(message, result.replies), ...extra];
    await deps.dispatcher.dispatch(replies, message.receivedAt);
    // Independent writes: the run record (for traces) and the "run finished" event (for waiters).
    await Promise.all([
      saveRun(deps, message, started, { workflow: result.workflow, status, steps, error: null }),
      publishRun(deps, message, status, replies.map((r) => r.id)),
    ]);
    log.info({ workflow: result.workflow, status, replies: replies.length, ms: result.durationMs }, 'workflow done');
    return { status, workflow: result.workflow, replies: replies.map((r) => r.id) } satisfies InboundJobResult;
  };
}

/** A keyword hand-off: no workflow runs; the visitor is told they are being connected. */
async function handOffOnRequest(
  deps: InboundHandlerDeps,
  message: InboundMessage,
  conversation: Conversation,
  decision: HandoffDecision,
  started: number,
  log: Logger,
): Promise<InboundJobResult> {
  const replies = await applyHandoff(deps, message, conversation, decision, log, true);
  await deps.dispatcher.dispatch(replies, message.receivedAt);
  const ids = replies.map((r) => r.id);
  await Promise.all([
    saveRun(deps, message, started, { workflow: null, status: 'handoff', steps: [decision.step], error: null }),
    publishRun(deps, message, 'handoff', ids),
  ]);
  return { status: 'handoff', workflow: null, replies: ids };
}

/**
 * Queue the conversation for an agent. Returns what else to tell the visitor: the hand-off reply
 * (`withReply`; a workflow's handoff step brings its own) and, when nobody can answer soon, the
 * out-of-hours or no-agent-online notice. The conversation stays queued either way.
 */
async function applyHandoff(
  deps: InboundHandlerDeps,
  message: InboundMessage,
  conversation: Conversation,
  decision: Pick<HandoffDecision, 'queue' | 'reason' | 'actor'>,
  log: Logger,
  withReply: boolean,
): Promise<OutboundMessage[]> {
  if (!deps.handoff) {
    const updated = await deps.store.transitionConversation(conversation.id, ['bot'], 'queued', { handoffQueue: decision.queue });
    if (updated) await deps.bus.publish(conversation.id, { type: 'state', state: 'queued' });
    return [];
  }
  if (!(await deps.handoff.apply(conversation, decision))) return [];
  log.info({ queue: decision.queue, by: decision.actor }, 'conversation handed off to a human');
  const notice = await deps.handoff.availabilityNotice();
  return [
    ...(withReply ? deps.dispatcher.answer(message, [{ kind: 'text', text: deps.handoff.reply }], { suffix: 'handoff-' }) : []),
    ...(notice ? deps.dispatcher.answer(message, [{ kind: 'text', text: notice }], { suffix: 'notice-', author: 'system' }) : []),
  ];
}

async function showTyping(deps: InboundHandlerDeps, message: InboundMessage, log: Logger): Promise<void> {
  const adapter = deps.adapters.get(message.channel, message.channelId);
  if (!adapter?.sendTyping) return;
  const controller = new AbortController();
  try {
    await adapter.sendTyping({ ...message.replyTo, conversationId: message.conversationId }, { logger: log, signal: controller.signal });
  } catch (err) {
    log.debug({ err }, 'typing indicator failed (ignored)');
  }
}

function observe(result: RunResult): void {
  const workflow = result.workflow ?? 'none';
  metrics.workflowRuns.observe({ workflow, status: result.status }, result.durationMs / 1000);
  const walk = (steps: RunResult['steps']) => {
    for (const s of steps) {
      metrics.workflowSteps.observe({ workflow, kind: s.kind, status: s.status }, s.ms / 1000);
      if (s.status === 'fallback') metrics.fallbacks.inc({ workflow, kind: s.kind });
      if (s.children) walk(s.children);
    }
  };
  walk(result.steps);
}

async function saveRun(
  deps: InboundHandlerDeps,
  message: InboundMessage,
  started: number,
  run: Pick<WorkflowRun, 'workflow' | 'status' | 'steps' | 'error'>,
): Promise<void> {
  await deps.store.saveRun({
    ...run,
    id: `r_${message.id}`,
    inboundMessageId: message.id,
    conversationId: message.conversationId,
    traceId: message.traceId,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  });
}

async function publishRun(deps: InboundHandlerDeps, message: InboundMessage, status: string, replyIds: string[]): Promise<void> {
  await deps.bus.publish(message.conversationId, { type: 'run', inboundId: message.id, status, replyIds });
}
