/**
 * The `sources.orders` block of hub.yaml: named, parameterized SQL against an order database.
 * Message text and sender ids only ever reach the database as bound parameters (`$1`, `$2`…);
 * the SQL itself comes from this file and nowhere else.
 *
 * ```yaml
 * sources:
 *   orders:
 *     database: ${ORDERS_DATABASE_URL}    # or `store`: the hub's own database
 *     timeout: 2s
 *     queries:
 *       order_by_number:
 *         sql: SELECT order_no, status FROM orders WHERE order_no = $1
 *         params:
 *           - { from: text, regex: "\\b(SO\\d{8})\\b", required: true, name: order number }
 *       recent_orders:
 *         sql: SELECT order_no, status FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC LIMIT 3
 *         params: [sender]
 * ```
 */
import { z } from 'zod';
import { callPolicyFields } from '../../resilience/config.ts';
import type { CompiledTemplate } from '../../workflows/liquid.ts';
import { compileRegex, issueParams, parseNested, templateSchema } from '../../workflows/schema-helpers.ts';
import { sourceNameSchema } from '../dify/config.ts';

/** Where a parameter's value comes from. */
export type ParamFrom = 'text' | 'sender' | 'conversation' | 'channel' | 'template';

export interface ParamSpec {
  from: ParamFrom;
  /** `text` only: the value is this regex's `group` (default 1, or the whole match without groups). */
  regex?: RegExp;
  group?: number;
  template?: CompiledTemplate;
  /** When the value is missing (no regex match, empty), the query is not run. */
  required: boolean;
  /** Said in the step output when a required value is missing (`order number`). */
  name?: string;
}

const FROM = ['text', 'sender', 'conversation', 'channel', 'template'] as const;

const paramObject = z.strictObject({
  from: z.enum(FROM),
  regex: z.string().min(1).optional(),
  flags: z.string().optional(),
  group: z.number().int().min(0).optional(),
  template: templateSchema.optional(),
  required: z.boolean().default(false),
  name: z.string().min(1).optional(),
});

const paramSchema = z.unknown().transform((raw, ctx): ParamSpec => {
  if (typeof raw === 'string') {
    if ((FROM as readonly string[]).includes(raw) && raw !== 'template')
      return { from: raw as ParamFrom, required: false };
    ctx.addIssue({
      code: 'custom',
      message: `a parameter is one of text, sender, conversation, channel, or a map like { from: text, regex: "…" }`,
      params: issueParams(),
    });
    return z.NEVER;
  }
  const p = parseNested(ctx, paramObject, raw, []);
  if (!p) return z.NEVER;
  if (p.regex !== undefined && p.from !== 'text') {
    ctx.addIssue({
      code: 'custom',
      message: 'regex applies to `from: text` only',
      path: ['regex'],
      params: issueParams(),
    });
    return z.NEVER;
  }
  if (p.from === 'template' && !p.template) {
    ctx.addIssue({
      code: 'custom',
      message: '`from: template` needs a template',
      path: ['from'],
      params: issueParams(),
    });
    return z.NEVER;
  }
  const regex = p.regex === undefined ? undefined : compileRegex(p.regex, p.flags, ctx, ['regex']);
  if (p.regex !== undefined && !regex) return z.NEVER;
  return {
    from: p.from,
    required: p.required,
    ...(regex ? { regex } : {}),
    ...(p.group !== undefined ? { group: p.group } : {}),
    ...(p.template ? { template: p.template } : {}),
    ...(p.name ? { name: p.name } : {}),
  };
});

const querySchema = z
  .strictObject({
    /** One SQL statement with `$1`, `$2`… placeholders, run in a read-only transaction. */
    sql: z.string().min(1),
    params: z.array(paramSchema).default([]),
    /** Rows kept in the step output. */
    maxRows: z.number().int().min(1).max(1000).default(20),
    description: z.string().optional(),
  })
  .superRefine((q, ctx) => {
    const used = new Set([...q.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const max = Math.max(0, ...used);
    if (max !== q.params.length)
      ctx.addIssue({
        code: 'custom',
        path: ['params'],
        message: `the SQL uses ${max === 0 ? 'no placeholder' : `placeholders up to $${max}`} but ${q.params.length} parameter(s) are declared`,
        params: issueParams(),
      });
    for (let i = 1; i <= max; i++)
      if (!used.has(i))
        ctx.addIssue({
          code: 'custom',
          path: ['sql'],
          message: `placeholder $${i} is never used in the SQL`,
          params: issueParams(),
        });
  });
export type OrderQueryConfig = z.output<typeof querySchema>;

export const ordersSourceSchema = z
  .strictObject({
    /** Off: `orders` steps fail at once (their `fallback` answers). */
    enabled: z.boolean().default(true),
    /** `store` (the hub's own PostgreSQL/PGlite) or a `postgres://` URL, as `${ENV}`. */
    database: z.string().min(1).default('store'),
    /**
     * Create and fill the `demo_orders` table in the hub's store from `config/orders/demo-orders.yaml`
     * (or the file named here), idempotently, at start. For the demo only.
     */
    demoSeed: z.union([z.boolean(), z.string().min(1)]).default(false),
    /** Connections to an external order database. */
    poolSize: z.number().int().min(1).max(100).default(4),
    queries: z.record(sourceNameSchema, querySchema).default({}),
    ...callPolicyFields,
  })
  .superRefine((v, ctx) => {
    if (v.database !== 'store' && !/^postgres(ql)?:\/\//.test(v.database))
      ctx.addIssue({
        code: 'custom',
        path: ['database'],
        message: 'database is `store` or a postgres:// URL',
        params: issueParams(),
      });
    if (v.demoSeed !== false && v.database !== 'store')
      ctx.addIssue({
        code: 'custom',
        path: ['demoSeed'],
        message: 'demoSeed only seeds the hub store (database: store)',
        params: issueParams(),
      });
  });
export type OrdersSourceConfig = z.output<typeof ordersSourceSchema>;

/** The seed file of `demoSeed: true`, relative to the config directory. */
export const DEFAULT_DEMO_SEED = 'orders/demo-orders.yaml';
