/**
 * The worker side of a hub process: workflow catalog, step kinds and AI sources, the inbound and
 * outbound processors, and the partition assigner that decides which queues this process consumes.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { aiStepKinds } from './ai/step-kinds.ts';
import type { AdapterSet } from './channels/registry.ts';
import type { Env } from './config/env.ts';
import type { HubConfig } from './config/hub-schema.ts';
import type { EventBus } from './events/event-bus.ts';
import { createHandoffHooks } from './handoff/create-hooks.ts';
import type { RunningHub } from './hub-types.ts';
import type { DeadLetters } from './queue/dead-letters.ts';
import { createInboundHandler } from './queue/handle-inbound.ts';
import { createInboundProcessor } from './queue/inbound-processor.ts';
import { createOutboundProcessor } from './queue/outbound-processor.ts';
import { PartitionAssigner } from './queue/partition-assigner.ts';
import { ReplyDispatcher } from './queue/reply-dispatch.ts';
import { WorkerPool } from './queue/worker-pool.ts';
import { BreakerRegistry } from './resilience/breakers.ts';
import type { ReadinessCheck } from './server/routes/health.ts';
import type { SqlStore } from './store/sql-store.ts';
import type { Store } from './store/types.ts';
import { traceInboundJobs, traceOutboundJobs } from './telemetry/job-spans.ts';
import { defaultStepKinds, type StepKind, WorkflowCatalog } from './workflows/index.ts';

export interface WorkerDeps {
  config: HubConfig;
  env: Env;
  logger: Logger;
  store: Store;
  bus: EventBus;
  adapters: AdapterSet;
  deadLetters: DeadLetters;
  workerRedis: Redis;
  readiness: Record<string, ReadinessCheck>;
  /** Run in order at stop, after the workers drained. */
  cleanups: (() => Promise<unknown>)[];
}

export async function startWorkers(
  hub: RunningHub,
  d: WorkerDeps,
  extraKinds: StepKind<any, any>[],
): Promise<void> {
  const { config, logger, store, bus, adapters } = d;
  const kinds = defaultStepKinds();
  for (const kind of extraKinds) kinds.register(kind);
  // parallel, dify, kb, orders, http, llm (checked against hub.yaml's sources); an embedder's own
  // kind of the same name wins.
  for (const kind of aiStepKinds({ sources: config.sources, configDir: d.env.CONFIG_DIR })) {
    if (!kinds.has(kind.kind)) kinds.register(kind);
  }
  // One registry for channel sends and sources alike: /readyz shows every breaker.
  const breakers = new BreakerRegistry(config.breaker, logger);
  // Loaded here, not at the top: the knowledge base's modules are heavy and only workers need them.
  const { startHubSources } = await import('./ai/hub-sources.ts');
  const sources = await startHubSources({
    sources: config.sources,
    configDir: d.env.CONFIG_DIR,
    store,
    db: (store as SqlStore).db,
    publish: (conversationId, event) => bus.publish(conversationId, event),
    breakers,
    logger,
  });
  d.cleanups.unshift(() => sources.stop());
  const catalog = await WorkflowCatalog.open(resolve(d.env.CONFIG_DIR, config.workflows.dir), {
    kinds,
    logger,
    watch: true,
  });
  const dispatcher = new ReplyDispatcher(store, hub.queues);
  const handle = createInboundHandler({
    store,
    catalog,
    kinds,
    services: { handoffReply: config.replies.handoff, ai: sources.runtime },
    dispatcher,
    bus,
    adapters,
    logger,
    stepTimeoutMs: config.workflows.stepTimeout,
    runTimeoutMs: config.workflows.runTimeout,
    handoff: createHandoffHooks({
      config: config.handoff,
      handoffReply: config.replies.handoff,
      store,
      bus,
      redis: d.workerRedis,
      prefix: d.env.QUEUE_PREFIX,
      logger,
    }),
  });
  const pool = new WorkerPool({
    connection: d.workerRedis,
    prefix: d.env.QUEUE_PREFIX,
    config: config.queue,
    queues: hub.queues,
    logger,
    // Job spans continue each message's trace; without tracing these return the processor as is.
    inbound: traceInboundJobs(
      createInboundProcessor({
        handle,
        dispatcher,
        deadLetters: d.deadLetters,
        bus,
        logger,
        attempts: config.queue.inboundAttempts,
        backoffMs: config.queue.backoff,
        apologyText: config.replies.apology,
      }),
    ),
    outbound: traceOutboundJobs(
      createOutboundProcessor({
        store,
        adapters,
        breakers,
        deadLetters: d.deadLetters,
        logger,
        queues: hub.queues,
        order: { orderHoldMs: config.queue.outboundOrderHold, pollMs: config.queue.backoff },
      }),
    ),
  });
  const assigner = new PartitionAssigner({
    redis: d.workerRedis,
    prefix: d.env.QUEUE_PREFIX,
    partitions: config.queue.partitions,
    leaseMs: config.queue.partitionLease,
    workerId: `${process.pid}-${randomUUID().slice(0, 8)}`,
    logger,
    onAcquire: (p) => pool.startPartition(p),
    onRelease: (p) => pool.stopPartition(p),
  });
  await assigner.start();
  hub.catalog = catalog;
  hub.assigner = assigner;
  d.readiness.workers = async () => ({ ok: true, detail: { partitions: assigner.ownedPartitions().length } });
  d.readiness.workflows = async () => ({
    ok: true,
    detail: { loaded: catalog.current().list().length, issues: catalog.issues().length },
  });
  d.readiness.breakers = async () => ({ ok: true, detail: breakers.states() });
  d.readiness.sources = sources.readiness;
}
