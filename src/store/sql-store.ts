/**
 * The `Store` over an `Executor`: one implementation for both drivers. Every statement is
 * parameterized; each hot-path call (ensureConversation, recordInbound, recordOutbound,
 * updateDelivery) is a single statement, hence one round trip and its own transaction.
 */
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.ts';
import type { InboundMessage, OutboundMessage } from '../messages.ts';
import type { Executor } from './executor.ts';
import { migrate } from './migrate.ts';
import { migrations as allMigrations, type Migration } from './migrations.ts';
import {
  CONVERSATION_COLUMNS,
  type ConversationRow,
  MESSAGE_COLUMNS,
  type MessageRow,
  RUN_COLUMNS,
  type RunRow,
  toConversation,
  toStoredMessage,
  toWorkflowRun,
} from './rows.ts';
import { SqlHandoffStore } from './sql-handoff.ts';
import { jsonParam, limitParam, textParam } from './sql-values.ts';
import type {
  Conversation,
  ConversationState,
  NewConversation,
  Store,
  StoredMessage,
  WorkflowRun,
} from './types.ts';

/**
 * Messages of one conversation are inserted under a transaction-scoped advisory lock on
 * (namespace, hash of the conversation id), taken before the row draws its `seq`. So within a
 * conversation `seq` order is also commit order, and a reader resuming "after seq N" (SSE) can
 * never miss a row that commits later with a smaller seq.
 */
export const MESSAGE_ORDER_LOCK = 1935827830;
const ORDER_LOCK = `SELECT pg_advisory_xact_lock(${MESSAGE_ORDER_LOCK}, hashtext($2::text))`;

const INSERT_INBOUND = `
WITH ordered AS (${ORDER_LOCK})
INSERT INTO messages (id, conversation_id, direction, kind, text, payload, in_reply_to, author, trace_id)
SELECT $1::text, $2::text, 'in', $3::text, $4::text, $5::jsonb, NULL, 'visitor', $6::text FROM ordered
ON CONFLICT (id) DO NOTHING
RETURNING seq`;

// The delivery row decides idempotency (its key is the contract); the message follows it.
const INSERT_OUTBOUND = `
WITH ordered AS (${ORDER_LOCK}),
delivery AS (
  INSERT INTO deliveries (idempotency_key, message_id, conversation_id, channel, channel_id)
  SELECT $8::text, $1::text, $2::text, $9::text, $10::text FROM ordered
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING message_id
)
INSERT INTO messages (id, conversation_id, direction, kind, text, payload, in_reply_to, author, trace_id)
SELECT message_id, $2::text, 'out', $3::text, $4::text, $5::jsonb, $6::text, $7::text, $11::text FROM delivery
ON CONFLICT (id) DO NOTHING
RETURNING seq`;

// `DO NOTHING` returns no row for an existing conversation, so the existing one is selected in
// the same statement.
const ENSURE_CONVERSATION = `
WITH inserted AS (
  INSERT INTO conversations (id, channel, channel_id, meta) VALUES ($1, $2, $3, $4::jsonb)
  ON CONFLICT (id) DO NOTHING
  RETURNING ${CONVERSATION_COLUMNS}
)
SELECT ${CONVERSATION_COLUMNS} FROM inserted
UNION ALL
SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`;

const TRANSITION = `
UPDATE conversations SET
  state = $3::text,
  assignee = CASE WHEN $4::boolean THEN $5::text ELSE assignee END,
  handoff_queue = CASE WHEN $6::boolean THEN $7::text ELSE handoff_queue END,
  closed_at = CASE WHEN $3::text = 'closed' THEN coalesce(closed_at, now()) END,
  updated_at = now()
WHERE id = $1 AND state = ANY($2::text[])
RETURNING ${CONVERSATION_COLUMNS}`;

const SAVE_RUN = `
INSERT INTO workflow_runs (${RUN_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::timestamptz, $10)
ON CONFLICT (id) DO UPDATE SET
  inbound_message_id = EXCLUDED.inbound_message_id,
  conversation_id = EXCLUDED.conversation_id,
  workflow = EXCLUDED.workflow,
  status = EXCLUDED.status,
  steps = EXCLUDED.steps,
  error = EXCLUDED.error,
  trace_id = EXCLUDED.trace_id,
  started_at = EXCLUDED.started_at,
  duration_ms = EXCLUDED.duration_ms`;

export interface SqlStoreOptions {
  executor: Executor;
  logger?: Logger;
  /** The schema to migrate to; the full list by default (tests pass prefixes of it). */
  migrations?: readonly Migration[];
}

/**
 * The whole store: conversations, messages and runs here; hand-off moves and lists, agents and
 * their sessions, and deliveries in the classes it extends (sql-handoff.ts → sql-agents.ts →
 * sql-deliveries.ts), one file per group of tables.
 *
 * Beyond the contract in types.ts: `updateConversationMeta` and `updateDelivery` throw a
 * `NotFoundError` for an unknown id, since a lost update is a bug worth surfacing.
 */
export class SqlStore extends SqlHandoffStore implements Store {
  readonly driver: Store['driver'];
  /** The executor, for features that keep their own tables in the same database (agents, KB). */
  readonly db: Executor;
  readonly #logger: Logger | undefined;
  readonly #migrations: readonly Migration[];

  constructor(opts: SqlStoreOptions) {
    super();
    this.db = opts.executor;
    this.driver = opts.executor.driver;
    this.#logger = opts.logger;
    this.#migrations = opts.migrations ?? allMigrations;
  }

  async migrate(): Promise<void> {
    await migrate(this.db, this.#migrations, this.#logger);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async ensureConversation(c: NewConversation): Promise<Conversation> {
    const params = [c.id, c.channel, c.channelId, jsonParam(c.meta ?? {})];
    const [row] = await this.db.query<ConversationRow>(ENSURE_CONVERSATION, params);
    if (row) return toConversation(row);
    // A concurrent insert committed while this statement waited on it: the statement's snapshot
    // predates that commit, a new statement sees it.
    const existing = await this.getConversation(c.id);
    if (!existing) throw new Error(`conversation ${c.id} vanished while being ensured`);
    return existing;
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const [row] = await this.db.query<ConversationRow>(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`,
      [id],
    );
    return row ? toConversation(row) : null;
  }

  async transitionConversation(
    id: string,
    from: ConversationState[],
    to: ConversationState,
    patch: { assignee?: string | null; handoffQueue?: string | null } = {},
  ): Promise<Conversation | null> {
    if (from.length === 0) return null;
    const [row] = await this.db.query<ConversationRow>(TRANSITION, [
      id,
      from,
      to,
      patch.assignee !== undefined,
      patch.assignee ?? null,
      patch.handoffQueue !== undefined,
      patch.handoffQueue ?? null,
    ]);
    return row ? toConversation(row) : null;
  }

  async updateConversationMeta(id: string, patch: Record<string, unknown>): Promise<void> {
    const rows = await this.db.query(
      'UPDATE conversations SET meta = meta || $2::jsonb, updated_at = now() WHERE id = $1 RETURNING 1 AS found',
      [id, jsonParam(patch)],
    );
    if (rows.length === 0) throw new NotFoundError(`conversation ${id} not found`);
  }

  async recordInbound(m: InboundMessage): Promise<boolean> {
    const rows = await this.db.query(INSERT_INBOUND, [
      m.id,
      m.conversationId,
      m.kind,
      textParam(m.text),
      jsonParam(m),
      m.traceId,
    ]);
    return rows.length > 0;
  }

  async recordOutbound(m: OutboundMessage): Promise<boolean> {
    const rows = await this.db.query(INSERT_OUTBOUND, [
      m.id,
      m.conversationId,
      m.kind,
      textParam(m.text),
      jsonParam(m),
      m.inReplyTo ?? null,
      m.author,
      m.idempotencyKey,
      m.channel,
      m.channelId,
      m.traceId,
    ]);
    return rows.length > 0;
  }

  async listMessages(
    conversationId: string,
    opts: { afterSeq?: number; limit?: number } = {},
  ): Promise<StoredMessage[]> {
    const rows = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [conversationId, opts.afterSeq ?? 0, limitParam(opts.limit, 100, 1000)],
    );
    return rows.map(toStoredMessage);
  }

  async listReplies(inboundMessageId: string): Promise<StoredMessage[]> {
    const rows = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE in_reply_to = $1 AND direction = 'out' ORDER BY seq`,
      [inboundMessageId],
    );
    return rows.map(toStoredMessage);
  }

  async getMessage(id: string): Promise<StoredMessage | null> {
    const [row] = await this.db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`, [
      id,
    ]);
    return row ? toStoredMessage(row) : null;
  }

  async saveRun(run: WorkflowRun): Promise<void> {
    await this.db.query(SAVE_RUN, [
      run.id,
      run.inboundMessageId,
      run.conversationId,
      run.workflow,
      run.status,
      jsonParam(run.steps),
      textParam(run.error),
      run.traceId,
      run.startedAt,
      run.durationMs,
    ]);
  }

  async listRuns(filter: {
    conversationId?: string;
    inboundMessageId?: string;
    limit?: number;
  }): Promise<WorkflowRun[]> {
    // Only the filters given become conditions, so each shape can use its index.
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.conversationId !== undefined) {
      params.push(filter.conversationId);
      where.push(`conversation_id = $${params.length}`);
    }
    if (filter.inboundMessageId !== undefined) {
      params.push(filter.inboundMessageId);
      where.push(`inbound_message_id = $${params.length}`);
    }
    params.push(limitParam(filter.limit, 50, 500));
    const rows = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM workflow_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toWorkflowRun);
  }
}
