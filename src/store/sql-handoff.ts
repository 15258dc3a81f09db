/**
 * SQL of the hand-off part of the store (moves with their event log, console lists, the sweeps'
 * queries). `SqlStore` extends this class, so both drivers get it with the same statements.
 */
import type { Executor } from './executor.ts';
import {
  CONVERSATION_COLUMNS,
  type ConversationRow,
  MESSAGE_COLUMNS,
  type MessageRow,
  toConversation,
  toStoredMessage,
} from './rows.ts';
import { SqlAgentStore } from './sql-agents.ts';
import { jsonParam, limitParam } from './sql-values.ts';
import type {
  Conversation,
  ConversationSummary,
  HandoffEvent,
  HandoffStore,
  HandoffTransition,
  StoredMessage,
} from './types.ts';

interface EventRow {
  seq: number;
  conversation_id: string;
  type: HandoffEvent['type'];
  actor: string;
  from_state: HandoffEvent['fromState'];
  to_state: HandoffEvent['toState'];
  data: Record<string, unknown>;
  created_at: string;
}

const prefixed = (alias: string) =>
  CONVERSATION_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

// The CAS and its event row in one statement: either both happen or neither. `before` reads the
// old state under the row lock the UPDATE takes, so from_state is exact even under contention.
const TRANSITION_WITH_EVENT = `
WITH before AS (
  SELECT id, state FROM conversations
  WHERE id = $1 AND state = ANY($2::text[]) AND (NOT $3::boolean OR assignee IS NOT DISTINCT FROM $4::text)
  FOR UPDATE
),
updated AS (
  UPDATE conversations c SET
    state = $5::text,
    assignee = CASE WHEN $6::boolean THEN $7::text ELSE c.assignee END,
    handoff_queue = CASE WHEN $8::boolean THEN $9::text ELSE c.handoff_queue END,
    closed_at = CASE WHEN $5::text = 'closed' THEN coalesce(c.closed_at, now()) END,
    updated_at = now()
  FROM before
  WHERE c.id = before.id
  RETURNING ${prefixed('c')}, before.state AS from_state
),
logged AS (
  INSERT INTO conversation_events (conversation_id, type, actor, from_state, to_state, data)
  SELECT id, $10::text, $11::text, from_state, $5::text, $12::jsonb FROM updated
)
SELECT ${CONVERSATION_COLUMNS} FROM updated`;

// Per listed conversation: the visitor's newest message (the preview; `[image]`, `[file]` … when it
// has no text) and the newest message either way (activity), both through the (conversation_id,
// seq) index.
const LIST_CONVERSATIONS = (where: string, order: string, limitParamIndex: number) => `
SELECT ${prefixed('c')},
  coalesce(nullif(v.text, ''), '[' || v.kind || ']') AS last_text, v.author AS last_author, v.created_at AS last_at,
  greatest(c.updated_at, coalesce(m.created_at, c.updated_at)) AS last_activity_at
FROM conversations c
LEFT JOIN LATERAL (
  SELECT created_at FROM messages WHERE conversation_id = c.id ORDER BY seq DESC LIMIT 1
) m ON true
LEFT JOIN LATERAL (
  SELECT text, kind, author, created_at FROM messages WHERE conversation_id = c.id AND direction = 'in' ORDER BY seq DESC LIMIT 1
) v ON true
${where}
ORDER BY ${order}
LIMIT $${limitParamIndex}`;

type SummaryRow = ConversationRow & {
  last_text: string | null;
  last_author: string | null;
  last_at: string | null;
  last_activity_at: string;
};

/** The hand-off statements, over the executor of the concrete store. */
export abstract class SqlHandoffStore extends SqlAgentStore implements HandoffStore {
  abstract override readonly db: Executor;

  async transitionWithEvent(t: HandoffTransition): Promise<Conversation | null> {
    if (t.from.length === 0) return null;
    const [row] = await this.db.query<ConversationRow>(TRANSITION_WITH_EVENT, [
      t.conversationId,
      t.from,
      t.expectAssignee !== undefined,
      t.expectAssignee ?? null,
      t.to,
      t.assignee !== undefined,
      t.assignee ?? null,
      t.handoffQueue !== undefined,
      t.handoffQueue ?? null,
      t.event.type,
      t.event.actor,
      jsonParam(t.event.data ?? {}),
    ]);
    return row ? toConversation(row) : null;
  }

  async listHandoffEvents(conversationId: string): Promise<HandoffEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT seq, conversation_id, type, actor, from_state, to_state, data, created_at
       FROM conversation_events WHERE conversation_id = $1 ORDER BY seq`,
      [conversationId],
    );
    return rows.map((r) => ({
      seq: r.seq,
      conversationId: r.conversation_id,
      type: r.type,
      actor: r.actor,
      fromState: r.from_state,
      toState: r.to_state,
      data: r.data,
      createdAt: r.created_at,
    }));
  }

  async listConversations(filter: {
    states?: Conversation['state'][];
    assignee?: string;
    channel?: string;
    limit?: number;
  }): Promise<ConversationSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states) {
      params.push(filter.states);
      where.push(`c.state = ANY($${params.length}::text[])`);
    }
    if (filter.assignee !== undefined) {
      params.push(filter.assignee);
      where.push(`c.assignee = $${params.length}`);
    }
    if (filter.channel !== undefined) {
      params.push(filter.channel);
      where.push(`c.channel = $${params.length}`);
    }
    params.push(limitParam(filter.limit, 100, 500));
    const waitingLine = filter.states?.length === 1 && filter.states[0] === 'queued';
    const rows = await this.db.query<SummaryRow>(
      LIST_CONVERSATIONS(
        where.length ? `WHERE ${where.join(' AND ')}` : '',
        waitingLine ? 'c.updated_at ASC, c.id' : 'last_activity_at DESC, c.id',
        params.length,
      ),
      params,
    );
    return rows.map((r) => ({
      ...toConversation(r),
      lastMessage: r.last_at
        ? { text: r.last_text, author: r.last_author ?? 'visitor', createdAt: r.last_at }
        : null,
      lastActivityAt: r.last_activity_at,
    }));
  }

  async getLastInbound(conversationId: string): Promise<StoredMessage | null> {
    const [row] = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND direction = 'in'
       ORDER BY seq DESC LIMIT 1`,
      [conversationId],
    );
    return row ? toStoredMessage(row) : null;
  }

  async listIdleAgentConversations(idleSince: string, limit = 100): Promise<Conversation[]> {
    const rows = await this.db.query<ConversationRow>(
      `SELECT ${prefixed('c')} FROM conversations c
       LEFT JOIN LATERAL (
         SELECT created_at FROM messages WHERE conversation_id = c.id ORDER BY seq DESC LIMIT 1
       ) m ON true
       WHERE c.state = 'agent' AND greatest(c.updated_at, coalesce(m.created_at, c.updated_at)) < $1::timestamptz
       ORDER BY c.updated_at LIMIT $2`,
      [idleSince, limitParam(limit, 100, 1000)],
    );
    return rows.map(toConversation);
  }

  async listQueuedSince(queuedBefore: string, limit = 100): Promise<Conversation[]> {
    // A queued conversation's row changes only when it moves, so updated_at is when it was queued.
    const rows = await this.db.query<ConversationRow>(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations
       WHERE state = 'queued' AND updated_at < $1::timestamptz
       ORDER BY updated_at LIMIT $2`,
      [queuedBefore, limitParam(limit, 100, 1000)],
    );
    return rows.map(toConversation);
  }
}
