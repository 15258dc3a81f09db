/**
 * The agent console of an ingress process, assembled: authentication, presence, the hand-off
 * service, agent replies through the outbound queue, the hand-off sweeper (idle agents, queue
 * timeouts), and the routers that serve the API, the live stream and the static pages.
 */
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AgentAuth } from '../agents/agent-auth.ts';
import { AgentPresence } from '../agents/presence.ts';
import type { HubConfig } from '../config/hub-schema.ts';
import type { EventBus } from '../events/event-bus.ts';
import { HandoffService } from '../handoff/handoff-service.ts';
import { startHandoffSweeper } from '../handoff/sweeper.ts';
import type { DeadLetters } from '../queue/dead-letters.ts';
import type { HubQueues } from '../queue/queues.ts';
import { ReplyDispatcher } from '../queue/reply-dispatch.ts';
import { agentRoutes } from '../server/routes/agents.ts';
import { consoleStaticRoutes } from '../server/routes/console.ts';
import { consoleApiRoutes } from '../server/routes/console-api.ts';
import { consoleStreamRoutes } from '../server/routes/console-stream.ts';
import type { Store } from '../store/types.ts';

export interface AgentConsoleDeps {
  config: HubConfig;
  store: Store;
  bus: EventBus;
  /** The ingress connection and queues: agent replies are enqueued like any ingress work. */
  redis: Redis;
  queues: HubQueues;
  deadLetters: DeadLetters;
  prefix: string;
  adminToken: string | undefined;
  logger: Logger;
}

export interface AgentConsole {
  routers: Router[];
  service: HandoffService;
  auth: AgentAuth;
  stop(): Promise<void>;
}

export function createAgentConsole(deps: AgentConsoleDeps): AgentConsole {
  const { config, store, bus, logger } = deps;
  const handoff = config.handoff;
  const auth = new AgentAuth(store, deps.adminToken, handoff.sessionTtl);
  const presence = new AgentPresence(deps.redis, deps.prefix);
  const service = new HandoffService({ store, bus, logger });
  const dispatcher = new ReplyDispatcher(store, deps.queues);
  const stopSweeper = startHandoffSweeper({
    store,
    service,
    dispatcher,
    bus,
    idleMs: handoff.idleTimeout,
    waitMs: handoff.queueTimeout,
    notice: handoff.messages.queueTimeout,
    everyMs: handoff.idleCheckEvery,
    logger,
  });
  const routers = [
    consoleStaticRoutes(),
    agentRoutes({ auth, store, presence }),
    consoleStreamRoutes({ auth, bus, presence, logger }),
    consoleApiRoutes({
      auth,
      store,
      service,
      dispatcher,
      bus,
      deadLetters: deps.deadLetters,
      presence,
      maxTextLength: config.webChat.maxTextLength,
    }),
  ];
  return { routers, service, auth, stop: stopSweeper };
}
