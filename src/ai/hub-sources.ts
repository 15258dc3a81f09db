/**
 * The AI sources of a running hub (worker role): the knowledge base on the hub's store (ingested
 * from `sources.kb.ingest` at start, hot-reloaded), the order database (with the demo table when
 * asked), streamed answers onto the conversation bus, all calls guarded by one `Resilience` on
 * the hub's one `BreakerRegistry` — so `/readyz` shows channel and source breakers side by side.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BreakerRegistry } from '../resilience/breakers.ts';
import { Resilience } from '../resilience/guard.ts';
import type { Executor } from '../store/executor.ts';
import { createPgExecutor } from '../store/pg-executor.ts';
import type { Store } from '../store/types.ts';
import { guardedEmbedder, KbSource, storeKbRepository } from './kb-source.ts';
import { DEFAULT_DEMO_SEED } from './orders/config.ts';
import { seedDemoOrders } from './orders/demo-seed.ts';
import { OrderLookup } from './orders/lookup.ts';
import { AiRuntime, type Delta } from './runtime.ts';
import type { SourcesConfig } from './sources-config.ts';

export interface HubSourcesOptions {
  sources: SourcesConfig;
  configDir: string;
  store: Store;
  /** The store's SQL executor (`SqlStore.db`): the KB tables and the demo orders live there. */
  db: Executor;
  /** Publishes conversation events (the web chat shows streamed answers). */
  publish(conversationId: string, event: { type: 'delta' } & Delta): Promise<void>;
  breakers: BreakerRegistry;
  logger: Logger;
}

export interface HubSources {
  runtime: AiRuntime;
  /** Detail for `/readyz`: loaded KB collections and version. */
  readiness(): Promise<{ ok: boolean; detail: unknown }>;
  stop(): Promise<void>;
}

/** Channel types that can show an answer while it is being written. */
const STREAMING_CHANNELS = new Set(['web']);

/** Open the hub's sources (KB ingest + watch, orders, demo seed) and the runtime steps use. */
export async function startHubSources(opts: HubSourcesOptions): Promise<HubSources> {
  const logger = opts.logger.child({ component: 'sources' });
  const resilience = new Resilience(opts.breakers, logger);
  const stops: (() => Promise<unknown> | unknown)[] = [];

  const kbSource = await KbSource.open({
    config: opts.sources.kb,
    configDir: opts.configDir,
    repository: storeKbRepository(opts.db),
    embedder: await guardedEmbedder(opts.sources.kb, resilience),
    logger,
    watch: true,
  });
  stops.push(() => kbSource.stop());

  const orders = await openOrders(opts, resilience, logger, stops);

  const runtime = new AiRuntime({
    sources: opts.sources,
    configDir: opts.configDir,
    resilience,
    logger,
    store: opts.store,
    knowledgeBase: async () => kbSource.kb,
    orders: async () => orders,
    deltas: {
      supports: (channel) => STREAMING_CHANNELS.has(channel),
      publish: (conversationId, delta) => {
        // Not awaited: one connection keeps the order, and a lost piece only costs a flicker —
        // the whole answer arrives as the reply.
        opts
          .publish(conversationId, { type: 'delta', ...delta })
          .catch((err: unknown) => logger.debug({ err }, 'delta not published'));
      },
    },
  });
  return {
    runtime,
    readiness: async () => ({
      ok: true,
      detail: { kb: { version: kbSource.kb.version, collections: kbSource.kb.collections() } },
    }),
    async stop() {
      for (const stop of stops.splice(0).reverse())
        await Promise.resolve(stop()).catch((err: unknown) => logger.warn({ err }, 'source stop failed'));
    },
  };
}

async function openOrders(
  opts: HubSourcesOptions,
  resilience: Resilience,
  logger: Logger,
  stops: (() => Promise<unknown> | unknown)[],
): Promise<OrderLookup | null> {
  const cfg = opts.sources.orders;
  if (!cfg?.enabled) return null;
  let db = opts.db;
  if (cfg.database !== 'store') {
    // Lazy pool: an unreachable order database fails order steps (and opens their breaker), not the start.
    const pool = createPgExecutor({ url: cfg.database, maxConnections: cfg.poolSize, logger });
    stops.push(() => pool.close());
    db = pool;
  }
  if (cfg.demoSeed !== false) {
    const file = resolve(opts.configDir, cfg.demoSeed === true ? DEFAULT_DEMO_SEED : cfg.demoSeed);
    try {
      const rows = await seedDemoOrders(db, file);
      logger.info({ file, rows }, 'demo orders ready (table demo_orders)');
    } catch (err) {
      logger.error({ err, file }, 'could not seed the demo orders');
    }
  }
  return new OrderLookup(db, cfg, resilience);
}
