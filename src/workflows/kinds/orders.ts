/**
 * `orders`: run a named query of `sources.orders.queries`. `orders: order_lookup` or
 * `orders: { query: order_lookup }`. The SQL and where each parameter comes from live in hub.yaml;
 * the message only ever reaches the database as a bound parameter.
 *
 * Output: `{ query, rows, count, row }` (`row`: the first row or null). When a required value is
 * missing (no order number in the text), the query is not run and `missing` names the value.
 */
import { z } from 'zod';
import { checkName, type KindChecks } from '../../ai/kind-checks.ts';
import { paramValues } from '../../ai/orders/lookup.ts';
import { aiRuntimeOf } from '../../ai/runtime.ts';
import { issueParams, parseNested } from '../schema-helpers.ts';
import type { StepKind } from '../types.ts';

export interface OrdersOutput {
  source: 'orders';
  query: string;
  rows: Record<string, unknown>[];
  count: number;
  row: Record<string, unknown> | null;
  missing?: string;
}

const ordersObject = z.strictObject({ query: z.string().min(1) });

/** The `orders` kind; with `checks`, unknown query names are load errors. */
export function createOrdersKind(checks: KindChecks = {}): StepKind<{ query: string }, OrdersOutput> {
  const input = z.unknown().transform((raw, ctx): { query: string } => {
    let v: { query: string } | undefined;
    if (typeof raw === 'string' && raw.trim()) v = { query: raw.trim() };
    else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw))
      v = parseNested(ctx, ordersObject, raw, []);
    else
      ctx.addIssue({
        code: 'custom',
        message: 'orders is a query name, or { query: name }',
        params: issueParams(),
      });
    if (!v) return z.NEVER;
    const path = typeof raw === 'string' ? [] : ['query'];
    return checkName(ctx, v.query, checks.orderQueries, 'order query', 'sources.orders.queries', path)
      ? v
      : z.NEVER;
  });

  return {
    kind: 'orders',
    description: 'run a named, parameterized order query (sources.orders.queries)',
    input,
    async run(ctx, input, signal) {
      const rt = aiRuntimeOf(ctx);
      const lookup = await rt.orders();
      const query = rt.sources.orders?.queries[input.query];
      if (!query) throw new Error(`orders: no query "${input.query}" under sources.orders.queries`);
      const { values, missing } = paramValues(query.params, {
        text: ctx.message.text ?? '',
        senderId: ctx.message.sender.id,
        conversationId: ctx.conversation.id,
        channel: ctx.message.channel,
        render: (t) => ctx.render(t),
      });
      if (missing) return { source: 'orders', query: input.query, rows: [], count: 0, row: null, missing };
      const result = await lookup.run(input.query, values, signal);
      return {
        source: 'orders',
        query: input.query,
        rows: result.rows,
        count: result.count,
        row: result.rows[0] ?? null,
      };
    },
  };
}
