/**
 * What the agent console reads: snake_case JSON, like the visitor API. Messages carry their
 * store `seq`, so the console asks only for what it has not seen (`after_seq`).
 */
import type { AgentIdentity } from '../agents/agent-auth.ts';
import type {
  Agent,
  Conversation,
  ConversationSummary,
  HandoffEvent,
  StoredMessage,
  WorkflowRun,
} from '../store/types.ts';

export function toConsoleConversation(c: Conversation | ConversationSummary) {
  const summary = 'lastActivityAt' in c ? c : undefined;
  const visitor = (c.meta.visitor ?? {}) as { id?: string; name?: string };
  return {
    id: c.id,
    channel: c.channel,
    channel_id: c.channelId,
    state: c.state,
    assignee: c.assignee,
    queue: c.handoffQueue,
    visitor: { id: visitor.id ?? null, name: visitor.name ?? null },
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    closed_at: c.closedAt,
    ...(summary
      ? {
          last_activity_at: summary.lastActivityAt,
          last_message: summary.lastMessage
            ? {
                text: summary.lastMessage.text,
                role: summary.lastMessage.author,
                created_at: summary.lastMessage.createdAt,
              }
            : null,
        }
      : {}),
  };
}

export function toConsoleMessage(m: StoredMessage) {
  const payload = m.payload as {
    sender?: { name?: string };
    agent?: { name?: string };
    attachments?: unknown[];
  };
  return {
    seq: m.seq,
    id: m.id,
    direction: m.direction,
    role: m.author,
    kind: m.kind,
    text: m.text,
    attachments: payload.attachments ?? [],
    // The visitor's platform name, or the name of the agent who wrote an outbound message.
    sender_name: (m.direction === 'in' ? payload.sender?.name : payload.agent?.name) ?? null,
    in_reply_to: m.inReplyTo,
    trace_id: m.traceId,
    created_at: m.createdAt,
  };
}

export function toConsoleRun(r: WorkflowRun) {
  return {
    id: r.id,
    inbound_message_id: r.inboundMessageId,
    workflow: r.workflow,
    status: r.status,
    steps: r.steps,
    error: r.error,
    trace_id: r.traceId,
    started_at: r.startedAt,
    duration_ms: r.durationMs,
  };
}

export function toConsoleEvent(e: HandoffEvent) {
  return {
    seq: e.seq,
    type: e.type,
    actor: e.actor,
    from_state: e.fromState,
    to_state: e.toState,
    data: e.data,
    created_at: e.createdAt,
  };
}

export function toConsoleAgent(a: Agent, online: boolean) {
  return { id: a.id, name: a.name, role: a.role, disabled: a.disabled, online, created_at: a.createdAt };
}

export function toConsoleIdentity(a: AgentIdentity) {
  return { id: a.id, name: a.name, role: a.role };
}
