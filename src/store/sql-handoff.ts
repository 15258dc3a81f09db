/**
 * SQL of the hand-off part of the store (agents, console sessions, hand-off events, console
 * lists). `SqlStore` extends this class, so both drivers get it with the same statements.
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
import { SqlDeliveryStore } from './sql-deliveries.ts';
import { jsonParam, limitParam } from './sql-values.ts';
import type {
  Agent,
  AgentRole,
  AgentSession,
  Conversation,
  ConversationSummary,
  HandoffEvent,
  HandoffStore,
  HandoffTransition,
  NewAgent,
  StoredMessage,
} from './types.ts';

const AGENT_COLUMNS = 'id, name, role, disabled, created_at, updated_at';

interface AgentRow {
  id: string;
  name: string;
  role: AgentRole;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

const toAgent = (r: AgentRow): Agent => ({
  id: r.id,
  name: r.name,
  role: r.role,
  disabled: r.disabled,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

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
export abstract class SqlHandoffStore extends SqlDeliveryStore implements HandoffStore {
  abstract override readonly db: Executor;

  async createAgent(a: NewAgent): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO agents (id, name, role, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING 1 AS created`,
      [a.id, a.name, a.role, a.passwordHash],
    );
    return rows.length > 0;
  }

  async getAgent(id: string): Promise<Agent | null> {
    const [row] = await this.db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [id]);
    return row ? toAgent(row) : null;
  }

  async getAgentPasswordHash(id: string): Promise<string | null> {
    const [row] = await this.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM agents WHERE id = $1',
      [id],
    );
    return row?.password_hash ?? null;
  }

  async listAgents(): Promise<Agent[]> {
    const rows = await this.db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY id`);
    return rows.map(toAgent);
  }

  async updateAgent(
    id: string,
    patch: { name?: string; role?: AgentRole; passwordHash?: string; disabled?: boolean },
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE agents SET
         name = coalesce($2::text, name),
         role = coalesce($3::text, role),
         password_hash = coalesce($4::text, password_hash),
         disabled = coalesce($5::boolean, disabled),
         updated_at = now()
       WHERE id = $1 RETURNING 1 AS found`,
      [id, patch.name ?? null, patch.role ?? null, patch.passwordHash ?? null, patch.disabled ?? null],
    );
    return rows.length > 0;
  }

  async createAgentSession(tokenHash: string, s: Omit<AgentSession, 'createdAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO agent_sessions (token_hash, agent_id, name, role, expires_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz)`,
      [tokenHash, s.agentId, s.name, s.role, s.expiresAt],
    );
  }

  async getAgentSession(tokenHash: string): Promise<AgentSession | null> {
    const [row] = await this.db.query<{
      agent_id: string;
      name: string;
      role: AgentRole;
      created_at: string;
      expires_at: string;
    }>(
      `SELECT agent_id, name, role, created_at, expires_at FROM agent_sessions
       WHERE token_hash = $1 AND expires_at > now()`,
      [tokenHash],
    );
    return row
      ? {
          agentId: row.agent_id,
          name: row.name,
          role: row.role,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async deleteAgentSession(tokenHash: string): Promise<void> {
    await this.db.query('DELETE FROM agent_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteAgentSessions(agentId: string): Promise<void> {
    // Expired rows of everyone go with it: sessions have no other cleanup.
    await this.db.query('DELETE FROM agent_sessions WHERE agent_id = $1 OR expires_at < now()', [agentId]);
  }

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
