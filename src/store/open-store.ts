/**
 * Opens the conversation store the environment asks for: PostgreSQL through `pg` when
 * DATABASE_URL is set, else the embedded PGlite in `${DATA_DIR}/pglite`; then migrates it.
 */
import { join } from 'node:path';
import { vector } from '@electric-sql/pglite/vector';
import type { Logger } from 'pino';
import { UnavailableError } from '../errors.ts';
import type { Executor } from './executor.ts';
import { createPgExecutor } from './pg-executor.ts';
import { createPgliteExecutor } from './pglite-executor.ts';
import { SqlStore } from './sql-store.ts';
import type { Store } from './types.ts';

export interface OpenStoreOptions {
  /** DATABASE_URL; unset ⇒ embedded PGlite. */
  databaseUrl?: string;
  /** DATA_DIR; the embedded store lives in `<dataDir>/pglite`. */
  dataDir: string;
  logger?: Logger;
}

/**
 * Returns a migrated store. Throws an `UnavailableError` reading
 * `cannot reach PostgreSQL at <url without password>: <reason>` when the server cannot be reached.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const executor = opts.databaseUrl
    ? await connectPg(opts.databaseUrl, opts.logger)
    : // pgvector for the knowledge base's vector retriever (migration 4 creates it where available).
      await createPgliteExecutor({ dataDir: join(opts.dataDir, 'pglite'), extensions: { vector } });
  const store = new SqlStore({ executor, logger: opts.logger });
  try {
    await store.migrate();
  } catch (err) {
    await executor.close().catch(() => undefined);
    throw err;
  }
  opts.logger?.info(
    {
      driver: store.driver,
      at: opts.databaseUrl ? redactUrl(opts.databaseUrl) : join(opts.dataDir, 'pglite'),
    },
    'store ready',
  );
  return store;
}

async function connectPg(url: string, logger: Logger | undefined): Promise<Executor> {
  const executor = createPgExecutor({ url, logger });
  try {
    await executor.query('SELECT 1');
    return executor;
  } catch (err) {
    await executor.close().catch(() => undefined);
    throw new UnavailableError(`cannot reach PostgreSQL at ${redactUrl(url)}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/** The URL with its password (in the userinfo or a `password` query parameter) removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    // Never echo an unparsable URL: it may hold a password we failed to find.
    return '<unparsable DATABASE_URL>';
  }
}

/** One line, also for Node's AggregateError (host resolving to IPv4 and IPv6), whose message is empty. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return (err.message || code || err.name).split('\n')[0] ?? err.name;
  }
  return String(err);
}
