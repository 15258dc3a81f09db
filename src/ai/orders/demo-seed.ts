/**
 * The demo order table: `demo_orders` in the hub's own store, created and filled from
 * `config/orders/demo-orders.yaml` at start when `sources.orders.demoSeed` is on, so the demo
 * answers order questions with no external service. Idempotent: rows are upserted by order
 * number, so editing the file and restarting updates them and nothing is duplicated.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Queryable } from '../../store/executor.ts';

const DDL = `
CREATE TABLE IF NOT EXISTS demo_orders (
  order_no      text PRIMARY KEY,
  customer_id   text NOT NULL,
  customer_name text,
  status        text NOT NULL,
  items         text NOT NULL,
  total         numeric(12, 2) NOT NULL,
  currency      text NOT NULL DEFAULT 'CNY',
  carrier       text,
  tracking_no   text,
  placed_at     timestamptz NOT NULL,
  shipped_at    timestamptz,
  eta           date
);
CREATE INDEX IF NOT EXISTS demo_orders_customer_idx ON demo_orders (customer_id, placed_at DESC);`;

const UPSERT = `
INSERT INTO demo_orders (order_no, customer_id, customer_name, status, items, total, currency, carrier, tracking_no, placed_at, shipped_at, eta)
SELECT order_no, customer_id, customer_name, status, items, total, currency, carrier, tracking_no, placed_at, shipped_at, eta
FROM jsonb_to_recordset($1::jsonb) AS x(
  order_no text, customer_id text, customer_name text, status text, items text, total numeric, currency text,
  carrier text, tracking_no text, placed_at timestamptz, shipped_at timestamptz, eta date)
ON CONFLICT (order_no) DO UPDATE SET
  customer_id = EXCLUDED.customer_id, customer_name = EXCLUDED.customer_name, status = EXCLUDED.status,
  items = EXCLUDED.items, total = EXCLUDED.total, currency = EXCLUDED.currency, carrier = EXCLUDED.carrier,
  tracking_no = EXCLUDED.tracking_no, placed_at = EXCLUDED.placed_at, shipped_at = EXCLUDED.shipped_at, eta = EXCLUDED.eta`;

const text = z.union([z.string(), z.number()]).transform(String);
const when = z.union([z.string(), z.date()]).transform((v) => (v instanceof Date ? v.toISOString() : v));
const rowSchema = z.strictObject({
  order_no: text,
  customer_id: text,
  customer_name: z.string().optional(),
  status: z.enum(['pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunding', 'refunded']),
  items: z.string(),
  total: z.number().nonnegative(),
  currency: z.string().default('CNY'),
  carrier: z.string().optional(),
  tracking_no: text.optional(),
  placed_at: when,
  shipped_at: when.optional(),
  eta: when.optional(),
});
const fileSchema = z.strictObject({ orders: z.array(rowSchema) });

/** Create `demo_orders` and upsert the rows of `file`. Returns the number of rows in the file. */
export async function seedDemoOrders(db: Queryable, file: string): Promise<number> {
  const parsed = fileSchema.safeParse(parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  await db.exec(DDL);
  await db.query(UPSERT, [JSON.stringify(parsed.data.orders)]);
  return parsed.data.orders.length;
}
