/**
 * Sources for `switchboard simulate`, which must work next to a running hub (whose embedded store
 * is locked) and must not write anything: the knowledge base is built in memory from the
 * `sources.kb.ingest` files, the demo orders live in a throwaway in-memory PGlite, an external
 * order database is only read (queries run in read-only transactions). Dify, LLM and HTTP GETs
 * are called for real, as the hub would. Everything opens on first use, so a workflow without AI
 * steps pays nothing.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { BreakerRegistry } from '../resilience/breakers.ts';
import { Resilience } from '../resilience/guard.ts';
import type { Executor } from '../store/executor.ts';
import { createPgExecutor } from '../store/pg-executor.ts';
import { createPgliteExecutor } from '../store/pglite-executor.ts';
import { ingest, KnowledgeBase, MemoryKbRepository } from './kb/index.ts';
import { ingestTargets } from './kb-config.ts';
import { guardedEmbedder } from './kb-source.ts';
import { DEFAULT_DEMO_SEED } from './orders/config.ts';
import { seedDemoOrders } from './orders/demo-seed.ts';
import { OrderLookup } from './orders/lookup.ts';
import { AiRuntime } from './runtime.ts';
import type { SourcesConfig } from './sources-config.ts';

export interface SimulationSources {
  runtime: AiRuntime;
  /** One line per source actually opened, for the simulate printout. */
  notes: string[];
  stop(): Promise<void>;
}

/** Sources for one dry run; `stop()` closes what was opened. */
export function simulationSources(opts: {
  sources: SourcesConfig;
  configDir: string;
  breaker: { consecutiveFailures: number; halfOpenAfter: number };
  logger: Logger;
}): SimulationSources {
  const resilience = new Resilience(new BreakerRegistry(opts.breaker, opts.logger), opts.logger);
  const notes: string[] = [];
  const closers: Executor[] = [];

  const knowledgeBase = async () => {
    const repository = new MemoryKbRepository();
    const embedder = await guardedEmbedder(opts.sources.kb, resilience);
    for (const target of ingestTargets(opts.sources.kb, opts.configDir)) {
      const report = await ingest(target.path, { repository, collection: target.collection, embedder }).catch(
        () => null,
      );
      if (report)
        notes.push(
          `kb: ${target.path} → collection "${target.collection}" (${report.added} entries, in memory)`,
        );
    }
    return KnowledgeBase.open({ repository, embedder });
  };

  const orders = async () => {
    const cfg = opts.sources.orders;
    if (!cfg?.enabled) return null;
    let db: Executor;
    if (cfg.database === 'store') {
      db = await createPgliteExecutor({});
      if (cfg.demoSeed !== false) {
        const file = resolve(opts.configDir, cfg.demoSeed === true ? DEFAULT_DEMO_SEED : cfg.demoSeed);
        const rows = await seedDemoOrders(db, file);
        notes.push(`orders: demo_orders from ${file} (${rows} rows, in memory)`);
      } else notes.push('orders: the hub store is not opened by simulate; order queries will fail');
    } else {
      db = createPgExecutor({ url: cfg.database, maxConnections: 2, logger: opts.logger });
      notes.push('orders: external database, read-only queries');
    }
    closers.push(db);
    return new OrderLookup(db, cfg, resilience);
  };

  const runtime = new AiRuntime({
    sources: opts.sources,
    configDir: opts.configDir,
    resilience,
    logger: opts.logger,
    knowledgeBase,
    orders,
  });
  return {
    runtime,
    notes,
    async stop() {
      for (const db of closers.splice(0)) await db.close().catch(() => undefined);
    },
  };
}
