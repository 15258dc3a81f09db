/**
 * Table rows ↔ store types: the snake_case column lists the store selects and their mapping to
 * the camelCase shapes of types.ts. Values arrive already typed by the executor (ISO strings,
 * numbers, parsed JSON), so mapping is renaming only.
 */
import type { InboundMessage, OutboundMessage } from '../messages.ts';
import type {
  Conversation,
  ConversationState,
  Delivery,
  DeliveryStatus,
  StepRecord,
  StoredMessage,
  WorkflowRun,
} from './types.ts';

export const CONVERSATION_COLUMNS =
  'id, channel, channel_id, state, assignee, handoff_queue, meta, created_at, updated_at, closed_at';

export interface ConversationRow {
  id: string;
  channel: string;
  channel_id: string;
  state: ConversationState;
  assignee: string | null;
  handoff_queue: string | null;
  meta: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export function toConversation(r: ConversationRow): Conversation {
  return {
    id: r.id,
    channel: r.channel,
    channelId: r.channel_id,
    state: r.state,
    assignee: r.assignee,
    handoffQueue: r.handoff_queue,
    meta: r.meta,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    closedAt: r.closed_at,
  };
}

export const MESSAGE_COLUMNS =
  'seq, id, conversation_id, direction, kind, text, payload, in_reply_to, author, trace_id, created_at';

export interface MessageRow {
  seq: number;
  id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  kind: string;
  text: string | null;
  payload: InboundMessage | OutboundMessage;
  in_reply_to: string | null;
  author: StoredMessage['author'];
  trace_id: string;
  created_at: string;
}

export function toStoredMessage(r: MessageRow): StoredMessage {
  return {
    seq: r.seq,
    id: r.id,
    conversationId: r.conversation_id,
    direction: r.direction,
    kind: r.kind,
    text: r.text,
    payload: r.payload,
    inReplyTo: r.in_reply_to,
    author: r.author,
    traceId: r.trace_id,
    createdAt: r.created_at,
  };
}

export const DELIVERY_COLUMNS =
  'idempotency_key, message_id, conversation_id, channel, channel_id, status, attempts, last_error, platform_message_id, updated_at, sent_at';

export interface DeliveryRow {
  idempotency_key: string;
  message_id: string;
  conversation_id: string;
  channel: string;
  channel_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  platform_message_id: string | null;
  updated_at: string;
  sent_at: string | null;
}

export function toDelivery(r: DeliveryRow): Delivery {
  return {
    idempotencyKey: r.idempotency_key,
    messageId: r.message_id,
    conversationId: r.conversation_id,
    channel: r.channel,
    channelId: r.channel_id,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    platformMessageId: r.platform_message_id,
    updatedAt: r.updated_at,
    sentAt: r.sent_at,
  };
}

export const RUN_COLUMNS =
  'id, inbound_message_id, conversation_id, workflow, status, steps, error, trace_id, started_at, duration_ms';

export interface RunRow {
  id: string;
  inbound_message_id: string;
  conversation_id: string;
  workflow: string | null;
  status: WorkflowRun['status'];
  steps: StepRecord[];
  error: string | null;
  trace_id: string;
  started_at: string;
  duration_ms: number;
}

export function toWorkflowRun(r: RunRow): WorkflowRun {
  return {
    id: r.id,
    inboundMessageId: r.inbound_message_id,
    conversationId: r.conversation_id,
    workflow: r.workflow,
    status: r.status,
    steps: r.steps,
    error: r.error,
    traceId: r.trace_id,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
  };
}
