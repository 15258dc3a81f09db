/**
 * SQL of the delivery rows: one per reply, keyed by its idempotency key, saying whether it went
 * out. The outbound processor reads and moves them; see src/queue/outbound-processor.ts.
 * `SqlHandoffStore` (and so `SqlStore`) extends this class, so both drivers share the statements.
 */
import { NotFoundError } from '../errors.ts';
import type { Executor } from './executor.ts';
import { DELIVERY_COLUMNS, type DeliveryRow, toDelivery } from './rows.ts';
import { textParam } from './sql-values.ts';
import type { Delivery, DeliveryRef, DeliveryStatus } from './types.ts';

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
const START_DELIVERY = `
UPDATE deliveries d SET
  status = CASE WHEN behind.waiting THEN 'held' ELSE 'sending' END,
  attempts = d.attempts + CASE WHEN behind.waiting THEN 0 ELSE 1 END,
  last_error = CASE WHEN behind.waiting THEN $5::text ELSE d.last_error END,
  updated_at = now()
FROM (
  SELECT EXISTS (
    SELECT 1 FROM deliveries e JOIN messages m ON m.id = e.message_id
    WHERE e.conversation_id = $2
      AND e.status IN ('failed', 'held')
      AND e.updated_at > now() - ($4::double precision * interval '1 millisecond')
      AND m.seq < (SELECT seq FROM messages WHERE id = $3)
  ) AS waiting
) behind
WHERE d.idempotency_key = $1 AND d.status <> 'sent'
RETURNING d.status`;

const HELD_REASON = 'waiting for an earlier reply of this conversation to be delivered';

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

  async startDelivery(
    reply: DeliveryRef,
    orderWindowMs: number,
  ): Promise<'sending' | 'held' | 'sent' | null> {
    const { idempotencyKey, conversationId, messageId } = reply;
    const [row] = await this.db.query<{ status: 'sending' | 'held' }>(START_DELIVERY, [
      idempotencyKey,
      conversationId,
      messageId,
      orderWindowMs,
      HELD_REASON,
    ]);
    if (row) return row.status;
    // Nothing updated: already sent, or not recorded (the rare paths, hence a second statement).
    return (await this.getDelivery(idempotencyKey)) ? 'sent' : null;
  }

  async firstHeldReply(conversationId: string): Promise<string | null> {
    const [row] = await this.db.query<{ message_id: string }>(FIRST_HELD_REPLY, [conversationId]);
    return row?.message_id ?? null;
  }
}
