/**
 * SQL of the delivery rows: one per reply, keyed by its idempotency key, saying whether it went
 * out. The outbound processor reads and moves them; see src/queue/outbound-processor.ts.
 * `SqlHandoffStore` (and so `SqlStore`) extends this class, so both drivers share the statements.
 */
import { NotFoundError } from '../errors.ts';
import type { Executor } from './executor.ts';
import { DELIVERY_COLUMNS, type DeliveryRow, toDelivery } from './rows.ts';
import { textParam } from './sql-values.ts';
import type { Delivery, DeliveryStatus } from './types.ts';

const UPDATE_DELIVERY = `
UPDATE deliveries SET
  status = $2::text,
  attempts = attempts + CASE WHEN $2::text = 'sending' THEN 1 ELSE 0 END,
  last_error = CASE WHEN $3::boolean THEN $4::text ELSE last_error END,
  platform_message_id = CASE WHEN $5::boolean THEN $6::text ELSE platform_message_id END,
  sent_at = CASE WHEN $2::text = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END,
  updated_at = now()
WHERE idempotency_key = $1
RETURNING 1 AS found`;

// "Earlier" is the messages' seq, which within a conversation is commit order (see sql-store.ts).
// The time window is the database's own clock, so hub and database clocks may disagree.
const EARLIER_PENDING_REPLY = `
SELECT 1 AS found
FROM deliveries d JOIN messages m ON m.id = d.message_id
WHERE d.conversation_id = $1
  AND d.status IN ('failed', 'held')
  AND d.updated_at > now() - ($3::double precision * interval '1 millisecond')
  AND m.seq < (SELECT seq FROM messages WHERE id = $2)
LIMIT 1`;

const FIRST_HELD_REPLY = `
SELECT d.message_id
FROM deliveries d JOIN messages m ON m.id = d.message_id
WHERE d.conversation_id = $1 AND d.status = 'held'
ORDER BY m.seq
LIMIT 1`;

export abstract class SqlDeliveryStore {
  abstract readonly db: Executor;

  async getDelivery(idempotencyKey: string): Promise<Delivery | null> {
    const [row] = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE idempotency_key = $1`,
      [idempotencyKey],
    );
    return row ? toDelivery(row) : null;
  }

  async updateDelivery(
    idempotencyKey: string,
    status: DeliveryStatus,
    patch: { lastError?: string | null; platformMessageId?: string | null } = {},
  ): Promise<void> {
    const rows = await this.db.query(UPDATE_DELIVERY, [
      idempotencyKey,
      status,
      patch.lastError !== undefined,
      textParam(patch.lastError),
      patch.platformMessageId !== undefined,
      patch.platformMessageId ?? null,
    ]);
    if (rows.length === 0) throw new NotFoundError(`delivery ${idempotencyKey} not found`);
  }

  async hasEarlierPendingReply(
    conversationId: string,
    messageId: string,
    recentMs: number,
  ): Promise<boolean> {
    const rows = await this.db.query(EARLIER_PENDING_REPLY, [conversationId, messageId, recentMs]);
    return rows.length > 0;
  }

  async firstHeldReply(conversationId: string): Promise<string | null> {
    const [row] = await this.db.query<{ message_id: string }>(FIRST_HELD_REPLY, [conversationId]);
    return row?.message_id ?? null;
  }
}
