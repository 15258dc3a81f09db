/** Builds the worker's hand-off policy (keywords, low confidence, availability) from hub config. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AgentPresence } from '../agents/presence.ts';
import type { HandoffConfig } from '../config/hub-schema.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { Store } from '../store/types.ts';
import { HandoffService } from './handoff-service.ts';
import { HandoffHooks } from './inbound-hooks.ts';

export function createHandoffHooks(deps: {
  config: HandoffConfig;
  handoffReply: string;
  store: Store;
  bus: EventBus;
  redis: Redis;
  prefix: string;
  logger: Logger;
}): HandoffHooks {
  return new HandoffHooks({
    config: deps.config,
    handoffReply: deps.handoffReply,
    store: deps.store,
    service: new HandoffService({ store: deps.store, bus: deps.bus, logger: deps.logger }),
    presence: new AgentPresence(deps.redis, deps.prefix),
  });
}
