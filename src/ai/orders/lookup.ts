/**
 * Runs the named order queries of `sources.orders`: values taken from the message (by regex),
 * the sender, the conversation or a template, always bound as parameters; each query in a
 * read-only transaction with a statement timeout, so neither a crafted message nor a mistaken
 * query can change or hold the order database. Goes through the hub's resilience layer.
 */

import { resolveCallSettings } from '../../resilience/config.ts';
import { SourceError } from '../../resilience/errors.ts';
import type { Resilience } from '../../resilience/guard.ts';
import type { Executor } from '../../store/executor.ts';
import type { OrdersSourceConfig, ParamSpec } from './config.ts';

/** What parameter values are computed from. */
export interface ParamSource {
  text: string;
  senderId: string;
  conversationId: string;
  channel: string;
  render(template: NonNullable<ParamSpec['template']>): string;
}

export interface OrderQueryResult {
  rows: Record<string, unknown>[];
  count: number;
}

/** Parameter values, or the name of the first required one that is missing. */
export function paramValues(
  specs: readonly ParamSpec[],
  src: ParamSource,
): { values: (string | null)[]; missing?: string } {
  const values: (string | null)[] = [];
  for (const [i, spec] of specs.entries()) {
    let value: string | null = null;
    if (spec.from === 'text') {
      if (spec.regex) {
        const m = spec.regex.exec(src.text);
        value = m ? (m[spec.group ?? (m.length > 1 ? 1 : 0)] ?? null) : null;
      } else value = src.text;
    } else if (spec.from === 'sender') value = src.senderId;
    else if (spec.from === 'conversation') value = src.conversationId;
    else if (spec.from === 'channel') value = src.channel;
    else if (spec.template) value = src.render(spec.template);
    if (value !== null && value.trim() === '') value = null;
    if (value === null && spec.required) return { values, missing: spec.name ?? `parameter $${i + 1}` };
    values.push(value);
  }
  return { values };
}

/** SQLSTATE classes that mean the database (not the query) is in trouble. */
const TRANSIENT_SQLSTATE = /^(08|53|57|58)/;

/**
 * The configured order queries on one database (the hub store's executor or a pool of its own).
 * @see https://www.postgresql.org/docs/current/sql-set-transaction.html (READ ONLY)
 * @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
 */
export class OrderLookup {
  readonly target = 'orders';

  constructor(
    private readonly db: Executor,
    private readonly config: OrdersSourceConfig,
    private readonly resilience: Resilience,
  ) {}

  /** Names of the declared queries, sorted. */
  queryNames(): string[] {
    return Object.keys(this.config.queries).sort();
  }

  /** Run query `name` with bound `values`. */
  async run(
    name: string,
    values: readonly (string | null)[],
    signal: AbortSignal,
  ): Promise<OrderQueryResult> {
    const query = this.config.queries[name];
    if (!query)
      throw new SourceError(this.target, 'disabled', `no query "${name}" under sources.orders.queries`);
    const settings = resolveCallSettings(
      { timeoutMs: 2000, retries: 1, backoffMs: 100, concurrency: 16, queue: 64 },
      this.config,
    );
    const rows = await this.resilience.call(
      this.target,
      settings,
      () =>
        this.db
          .transaction(async (tx) => {
            await tx.query('SET TRANSACTION READ ONLY');
            // The server stops a slow query itself; the guard's timeout only stops our waiting.
            await tx.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(settings.timeoutMs))}`);
            return tx.query<Record<string, unknown>>(query.sql, values);
          })
          .catch((err: unknown) => {
            throw this.#translate(name, err);
          }),
      signal,
    );
    // Plain JSON out (dates as ISO text): outputs go into templates, run records and `simulate --json`.
    const kept = JSON.parse(JSON.stringify(rows.slice(0, query.maxRows))) as Record<string, unknown>[];
    return { rows: kept, count: rows.length };
  }

  #translate(name: string, err: unknown): unknown {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      const transient = TRANSIENT_SQLSTATE.test(code);
      return new SourceError(this.target, 'remote_error', `query "${name}" failed (${code}): ${message}`, {
        retryable: transient,
        countsForBreaker: transient,
        cause: err,
      });
    }
    return err; // connection errors and the like: the guard treats them as the database's trouble
  }
}
