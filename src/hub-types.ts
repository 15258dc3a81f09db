/** The shapes of a running hub process, shared by its composition files (hub.ts, hub-workers.ts). */
import type { Logger } from 'pino';
import type { AdapterSet } from './channels/registry.ts';
import type { ChannelType } from './channels/types.ts';
import type { Env } from './config/env.ts';
import type { HubConfig } from './config/hub-schema.ts';
import type { DeadLetters } from './queue/dead-letters.ts';
import type { Ingest } from './queue/ingest.ts';
import type { PartitionAssigner } from './queue/partition-assigner.ts';
import type { HubQueues } from './queue/queues.ts';
import type { Store } from './store/types.ts';
import type { StepKind, WorkflowCatalog } from './workflows/index.ts';

export type Role = 'all' | 'ingress' | 'worker';

export interface HubOptions {
  role: Role;
  env: Env;
  logger: Logger;
  /** Overrides of hub.yaml values. */
  configOverrides?: (config: HubConfig) => HubConfig;
  /** Extra channel types and step kinds, for embedding the hub with your own (and for tests). */
  channelTypes?: ChannelType<any>[];
  stepKinds?: StepKind<any, any>[];
}

export interface RunningHub {
  role: Role;
  config: HubConfig;
  store: Store;
  queues: HubQueues;
  deadLetters: DeadLetters;
  adapters: AdapterSet;
  catalog?: WorkflowCatalog;
  assigner?: PartitionAssigner;
  /** HTTP address: the whole surface for ingress roles, health and metrics for workers. */
  url?: string;
  port?: number;
  ingest?: Ingest;
  stop(): Promise<void>;
}
