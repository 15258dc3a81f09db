/**
 * The conversation store port. Two drivers implement it with the same SQL and migrations:
 * `pg` (DATABASE_URL set) and PGlite (embedded, in DATA_DIR). One contract suite
 * (test/store/store.contract.ts) runs against both.
 *
 * Every write that a retried job may repeat is idempotent (keyed by message id or idempotency key),
 * because the queue delivers at least once.
 */
import type { InboundMessage, OutboundMessage } from '../messages.ts';

export type ConversationState = 'bot' | 'queued' | 'agent' | 'closed';

export interface Conversation {
  id: string;
  channel: string;
  channelId: string;
  state: ConversationState;
  /** Agent that owns the conversation while `state` is `agent`. */
  assignee: string | null;
  /** Hand-off queue name while `queued`/`agent`. */
  handoffQueue: string | null;
  /** Free-form per-conversation data (e.g. Dify conversation ids, visitor info). */
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface NewConversation {
  id: string;
  channel: string;
  channelId: string;
  meta?: Record<string, unknown>;
}

export type MessageDirection = 'in' | 'out';

export interface StoredMessage {
  /** Monotonic per store; the order messages were recorded. Used as SSE event id. */
  seq: number;
  id: string;
  conversationId: string;
  direction: MessageDirection;
  kind: string;
  text: string | null;
  /** The full InboundMessage / OutboundMessage JSON. */
  payload: InboundMessage | OutboundMessage;
  inReplyTo: string | null;
  author: 'visitor' | 'bot' | 'agent' | 'system';
  traceId: string;
  createdAt: string;
}

/**
 * `failed`: an attempt failed and a retry is scheduled. `held`: waiting for an earlier reply of the
 * same conversation to leave first (see src/queue/reply-order.ts). `dead`: dead-lettered.
 */
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'held' | 'dead';

/** What identifies a reply's delivery row, and where the reply sits in its conversation. */
export interface DeliveryRef {
  idempotencyKey: string;
  conversationId: string;
  /** The reply's message id (its `seq` orders it within the conversation). */
  messageId: string;
}

export interface Delivery {
  idempotencyKey: string;
  messageId: string;
  conversationId: string;
  channel: string;
  channelId: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  platformMessageId: string | null;
  updatedAt: string;
  sentAt: string | null;
}

export interface StepRecord {
  id: string;
  kind: string;
  status: 'ok' | 'skipped' | 'failed' | 'fallback' | 'timeout';
  ms: number;
  output?: unknown;
  error?: string;
  /** Nested branches (parallel, switch). */
  children?: StepRecord[];
}

export interface WorkflowRun {
  id: string;
  inboundMessageId: string;
  conversationId: string;
  workflow: string | null;
  status: 'ok' | 'failed' | 'handoff' | 'no_match' | 'silenced';
  steps: StepRecord[];
  error: string | null;
  traceId: string;
  startedAt: string;
  durationMs: number;
}

export interface Store extends HandoffStore {
  /** Which driver is in use, for logs and /readyz. */
  readonly driver: 'pg' | 'pglite';
  /** Apply pending versioned migrations (idempotent; safe to call from several processes). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Insert if absent; returns the stored row either way. */
  ensureConversation(c: NewConversation): Promise<Conversation>;
  getConversation(id: string): Promise<Conversation | null>;
  /**
   * Compare-and-set the state: succeeds only when the current state is one of `from`
   * (e.g. an atomic claim `queued → agent`). Returns the updated row, or null when it did not apply.
   */
  transitionConversation(
    id: string,
    from: ConversationState[],
    to: ConversationState,
    patch?: { assignee?: string | null; handoffQueue?: string | null },
  ): Promise<Conversation | null>;
  /** Shallow-merge into `meta`. */
  updateConversationMeta(id: string, patch: Record<string, unknown>): Promise<void>;

  /** Record an inbound message; false when that id was already recorded (a redelivery). */
  recordInbound(message: InboundMessage): Promise<boolean>;
  /**
   * Record an outbound message and its delivery row (status `queued`) in one transaction;
   * false when the idempotency key was already recorded.
   */
  recordOutbound(message: OutboundMessage): Promise<boolean>;
  /** Messages of a conversation in recorded order, after `afterSeq` (exclusive), at most `limit`. */
  listMessages(
    conversationId: string,
    opts?: { afterSeq?: number; limit?: number },
  ): Promise<StoredMessage[]>;
  /** Outbound messages answering one inbound message, in recorded order. */
  listReplies(inboundMessageId: string): Promise<StoredMessage[]>;
  getMessage(id: string): Promise<StoredMessage | null>;

  getDelivery(idempotencyKey: string): Promise<Delivery | null>;
  /** Update status; `attempts` is incremented when status is `sending`. */
  updateDelivery(
    idempotencyKey: string,
    status: DeliveryStatus,
    patch?: { lastError?: string | null; platformMessageId?: string | null },
  ): Promise<void>;
  /**
   * Begin a send attempt, in one statement: mark the delivery `sending` (counting the attempt) —
   * or `held` when an earlier reply of its conversation (lower seq) is still waiting to go out
   * (`failed` or `held`) and was touched in the last `orderWindowMs` (0: never hold; older rows
   * count as abandoned, so nothing waits on them for ever). A delivery already `sent` is left as
   * is. Returns the status it now has, or null when there is no such delivery.
   */
  startDelivery(reply: DeliveryRef, orderWindowMs: number): Promise<'sending' | 'held' | 'sent' | null>;
  /** The message id of the first `held` reply of a conversation (lowest seq), if any. */
  firstHeldReply(conversationId: string): Promise<string | null>;

  /** Upsert by run id (a retried job overwrites its own earlier attempt). */
  saveRun(run: WorkflowRun): Promise<void>;
  listRuns(filter: {
    conversationId?: string;
    inboundMessageId?: string;
    limit?: number;
  }): Promise<WorkflowRun[]>;
}

// ── Hand-off: agents, console sessions, the hand-off event log, the console's lists ──────────

export type AgentRole = 'agent' | 'admin';

export interface Agent {
  /** Login name: lower-case letters, digits, `.`, `_`, `-`. */
  id: string;
  /** Display name, shown to colleagues and (on agent_joined) to visitors. */
  name: string;
  role: AgentRole;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewAgent {
  id: string;
  name: string;
  role: AgentRole;
  /** Already hashed (src/agents/password.ts); the store never sees a password. */
  passwordHash: string;
}

export interface AgentSession {
  agentId: string;
  name: string;
  role: AgentRole;
  createdAt: string;
  expiresAt: string;
}

export type HandoffEventType = 'queued' | 'claimed' | 'released' | 'transferred' | 'closed' | 'timed_out';

export interface HandoffEvent {
  seq: number;
  conversationId: string;
  type: HandoffEventType;
  /** Agent id, or `system` / `visitor` / `workflow:<name>` / `keyword` / `low_confidence`. */
  actor: string;
  fromState: ConversationState;
  toState: ConversationState;
  data: Record<string, unknown>;
  createdAt: string;
}

/** A compare-and-set on a conversation, recorded in the event log in the same statement. */
export interface HandoffTransition {
  conversationId: string;
  /** Applies only when the current state is one of these… */
  from: ConversationState[];
  /** …and, when given, the current assignee is this one (null: nobody). */
  expectAssignee?: string | null;
  to: ConversationState;
  assignee?: string | null;
  handoffQueue?: string | null;
  event: { type: HandoffEventType; actor: string; data?: Record<string, unknown> };
}

/** A conversation as the console lists it. */
export interface ConversationSummary extends Conversation {
  /** The visitor's newest message (what the console previews). */
  lastMessage: { text: string | null; author: string; createdAt: string } | null;
  /** Time of the newest message, or `updatedAt` when it has none. */
  lastActivityAt: string;
}

export interface HandoffStore {
  /** Insert; false when that id exists. */
  createAgent(agent: NewAgent): Promise<boolean>;
  getAgent(id: string): Promise<Agent | null>;
  /** The stored hash, for login only. */
  getAgentPasswordHash(id: string): Promise<string | null>;
  listAgents(): Promise<Agent[]>;
  /** Patch name/role/password/disabled; false when the agent does not exist. */
  updateAgent(
    id: string,
    patch: { name?: string; role?: AgentRole; passwordHash?: string; disabled?: boolean },
  ): Promise<boolean>;

  createAgentSession(tokenHash: string, session: Omit<AgentSession, 'createdAt'>): Promise<void>;
  /** A session that has not expired, else null. */
  getAgentSession(tokenHash: string): Promise<AgentSession | null>;
  deleteAgentSession(tokenHash: string): Promise<void>;
  /** Log every session of an agent out (disabled agent, changed password). */
  deleteAgentSessions(agentId: string): Promise<void>;

  /**
   * Compare-and-set the conversation (state, and the assignee when `expectAssignee` is given) and
   * append the event, atomically. Null when the conversation was not in an expected state: someone
   * else got there first.
   */
  transitionWithEvent(t: HandoffTransition): Promise<Conversation | null>;
  listHandoffEvents(conversationId: string): Promise<HandoffEvent[]>;

  /** Conversations for the console, newest activity first (queued: oldest first, the waiting line). */
  listConversations(filter: {
    states?: ConversationState[];
    assignee?: string;
    channel?: string;
    limit?: number;
  }): Promise<ConversationSummary[]>;
  /** The newest inbound message of a conversation: its `replyTo` is where an agent's reply goes. */
  getLastInbound(conversationId: string): Promise<StoredMessage | null>;
  /** Conversations owned by an agent with no message since `idleSince` (ISO), for the idle sweeper. */
  listIdleAgentConversations(idleSince: string, limit?: number): Promise<Conversation[]>;
  /** Conversations queued (state last changed) before `queuedBefore` (ISO), oldest first. */
  listQueuedSince(queuedBefore: string, limit?: number): Promise<Conversation[]>;
}
