import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WebSocketServer } from 'ws';
import { allChannelTypes } from './channels/all.ts';
import { LOOPBACK_CHANNEL, loopbackChannel } from './channels/loopback/index.ts';
import { type AdapterSet, buildAdapters, ChannelTypeRegistry } from './channels/registry.ts';
import { ChatService } from './channels/web/chat-service.ts';
import { WEB_CHANNEL, type WebAdapter } from './channels/web/index.ts';
import { loadHubConfig } from './config/load-hub.ts';
import { createAgentConsole } from './console/agent-console.ts';
import { EventBus } from './events/event-bus.ts';
import type { HubOptions, RunningHub } from './hub-types.ts';
import { startWorkers } from './hub-workers.ts';
import {
  checkRedis,
  createRedis,
  logRedisErrors,
  redisTargetFromEnv,
  waitUntilReady,
} from './queue/connection.ts';
import { DeadLetters } from './queue/dead-letters.ts';
import { DedupeRegistry } from './queue/dedupe.ts';
import { createIngest, type Ingest } from './queue/ingest.ts';
import { reportQueueDepth } from './queue/queue-metrics.ts';
import { HubQueues } from './queue/queues.ts';
import { createApp } from './server/app.ts';
import { attachChatSocket } from './server/chat-ws.ts';
import { adminRoutes } from './server/routes/admin.ts';
import { chatRoutes } from './server/routes/chat.ts';
import { healthRoutes, type ReadinessCheck } from './server/routes/health.ts';
import { queuesDashboardRoutes } from './server/routes/queues-dashboard.ts';
import { webhookRoutes } from './server/routes/webhooks.ts';
import { widgetRoutes } from './server/routes/widget.ts';
import { openStore } from './store/open-store.ts';
import { tracingRoutes } from './telemetry/http-server-spans.ts';
import { propagateTraceContext } from './telemetry/queue-propagation.ts';
import { startTracing } from './telemetry/tracing.ts';

export type { HubOptions, Role, RunningHub } from './hub-types.ts';

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const { env, logger, role } = opts;
  // The loopback channel is test-only (chaos tests and benchmarks drive child processes with it).
  const testChannels = env.SWITCHBOARD_TEST_CHANNELS === '1' ? [loopbackChannel] : [];
  const extraChannels = (opts.channelTypes ?? []).filter(
    (t) => !(testChannels.length > 0 && t.type === LOOPBACK_CHANNEL),
  );
  const registry = new ChannelTypeRegistry([...allChannelTypes, ...testChannels, ...extraChannels]);
  const loaded = await loadHubConfig(env.CONFIG_DIR, registry, process.env);
  const config = opts.configOverrides ? opts.configOverrides(loaded) : loaded;
  if (role !== 'all' && !env.DATABASE_URL) {
    throw new Error(
      `--role ${role} shares the store with other processes: set DATABASE_URL to a PostgreSQL database`,
    );
  }

  const redisTarget = redisTargetFromEnv(env);
  const { warnings } = await checkRedis(redisTarget);
  for (const warning of warnings) logger.warn(warning);
  const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, logger });
  const cleanups: (() => Promise<unknown>)[] = [() => store.close()];
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed last, after everything that makes spans.
  const tracing = await startTracing({
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: env.OTEL_SERVICE_NAME,
    role,
    logger,
  });
  cleanups.push(() => tracing.shutdown());
  const connect = (kind: 'ingress' | 'worker', what: string): Redis => {
    const redis = createRedis(redisTarget, kind);
    logRedisErrors(redis, logger, what);
    cleanups.unshift(() => redis.quit().catch(() => redis.disconnect()));
    return redis;
  };

  const workerRedis = connect('worker', 'commands');
  const prefix = env.QUEUE_PREFIX;
  const workerQueues = new HubQueues({ connection: workerRedis, prefix, config: config.queue });
  cleanups.unshift(() => workerQueues.close());
  if (tracing.enabled) propagateTraceContext(workerQueues.all());
  const stopQueueDepth = reportQueueDepth({
    redis: workerRedis,
    prefix,
    queues: workerQueues.all().map((q) => q.name),
  });
  cleanups.unshift(async () => stopQueueDepth());
  const hasIngress = role !== 'worker';
  const bus = new EventBus(
    workerRedis,
    hasIngress ? connect('worker', 'subscriber') : undefined,
    prefix,
    logger,
  );
  const adapters = buildAdapters(registry, config.channels, {
    redis: workerRedis,
    keyPrefix: prefix,
    store,
    logger,
    bus,
  });
  const deadLetters = new DeadLetters(workerQueues, logger);
  const hub: RunningHub = {
    role,
    config,
    store,
    queues: workerQueues,
    deadLetters,
    adapters,
    stop: async () => {},
  };
  const readiness: Record<string, ReadinessCheck> = {
    redis: async () => ({ ok: (await workerRedis.ping()) === 'PONG' }),
    store: async () => {
      await store.ping();
      return { ok: true, detail: store.driver };
    },
  };

  if (role !== 'ingress') {
    const workerDeps = {
      config,
      env,
      logger,
      store,
      bus,
      adapters,
      deadLetters,
      workerRedis,
      readiness,
      cleanups,
    };
    await startWorkers(hub, workerDeps, opts.stepKinds ?? []);
  }

  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  if (hasIngress) {
    const ingressRedis = connect('ingress', 'ingress');
    await waitUntilReady(ingressRedis);
    const ingressQueues = new HubQueues({ connection: ingressRedis, prefix, config: config.queue });
    cleanups.unshift(() => ingressQueues.close());
    if (tracing.enabled) propagateTraceContext(ingressQueues.all());
    const ingest = createIngest({
      queues: ingressQueues,
      dedupe: new DedupeRegistry(ingressRedis, prefix, config.queue.dedupeTtl),
      logger,
    });
    const webChannels = adapters.all().filter((a) => a.type === WEB_CHANNEL) as WebAdapter[];
    const webChannelIds = webChannels.map((a) => a.id);
    const allowedOrigins = [...new Set(webChannels.flatMap((a) => a.config.allowedOrigins))];
    const chat = new ChatService({ store, bus, ingest, channelIds: webChannelIds });
    for (const adapter of adapters.all()) {
      if (adapter.health) readiness[`channel:${adapter.type}:${adapter.id}`] = async () => adapter.health!();
    }
    const agentConsole = createAgentConsole({
      config,
      store,
      bus,
      redis: ingressRedis,
      queues: ingressQueues,
      deadLetters,
      prefix,
      adminToken: env.ADMIN_TOKEN,
      logger,
    });
    cleanups.unshift(() => agentConsole.stop());
    const app = createApp(
      [
        ...(tracing.enabled ? [tracingRoutes()] : []),
        healthRoutes(readiness),
        // Before adminRoutes: the dashboard's cookie login must run before the bearer check there.
        ...(env.ADMIN_TOKEN
          ? [await queuesDashboardRoutes({ queues: workerQueues.all(), adminToken: env.ADMIN_TOKEN })]
          : []),
        chatRoutes({ chat, bus, config: config.webChat, allowedOrigins }),
        webhookRoutes({ adapters, ingest, logger }),
        adminRoutes({ deadLetters, adminToken: env.ADMIN_TOKEN }),
        ...agentConsole.routers,
        widgetRoutes({ title: webChannels[0]?.config.title ?? 'Switchboard' }),
      ],
      logger,
    );
    server = createServer(app);
    wss = attachChatSocket(server, { chat, bus, logger, maxTextLength: config.webChat.maxTextLength });
    await listen(server, env.PORT, env.HOST);
    const address = server.address();
    hub.port = typeof address === 'object' && address ? address.port : env.PORT;
    hub.url = `http://127.0.0.1:${hub.port}`;
    hub.ingest = ingest;
    await startStreamAdapters(adapters, ingest, logger, cleanups);
  } else {
    // Worker processes serve health and metrics only (probes, Prometheus), on the same PORT.
    server = createServer(createApp([healthRoutes(readiness)], logger));
    await listen(server, env.PORT, env.HOST);
    const address = server.address();
    hub.port = typeof address === 'object' && address ? address.port : env.PORT;
    hub.url = `http://127.0.0.1:${hub.port}`;
  }

  let stopping: Promise<void> | undefined;
  hub.stop = () => {
    stopping ??= (async () => {
      for (const client of wss?.clients ?? []) client.close(1001, 'server shutting down');
      if (server) await closeServer(server);
      await hub.assigner?.stop();
      await hub.catalog?.close();
      for (const cleanup of cleanups)
        await cleanup().catch((err: unknown) => logger.warn({ err }, 'cleanup failed'));
    })();
    return stopping;
  };
  logger.info(
    { role, port: hub.port, store: store.driver, partitions: config.queue.partitions },
    'switchboard started',
  );
  return hub;
}

async function startStreamAdapters(
  adapters: AdapterSet,
  ingest: Ingest,
  logger: Logger,
  cleanups: (() => Promise<unknown>)[],
) {
  const controller = new AbortController();
  for (const adapter of adapters.all()) {
    if (!adapter.start) continue;
    await adapter.start({
      ingest,
      logger: logger.child({ channel: adapter.type, channelId: adapter.id }),
      signal: controller.signal,
    });
    cleanups.unshift(async () => {
      controller.abort();
      await adapter.stop?.();
    });
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
}

/** Stop accepting connections; give open ones (SSE, WebSockets) a moment, then cut them. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 2000);
  await closed;
  clearTimeout(timer);
}
