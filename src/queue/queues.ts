/**
 * The hub's BullMQ queues: `inbound-<p>` and `outbound-<p>` for each partition p, and one
 * `dead-letter` queue. Producers (ingress, inbound worker, console) use this class; consumers are
 * in worker-pool.ts.
 */
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueConfig } from '../config/hub-schema.ts';
import type { InboundMessage, OutboundMessage } from '../messages.ts';
import type { DeadLetterJobData, InboundJobData, OutboundJobData } from './job-types.ts';
import { DEAD_LETTER_QUEUE, inboundQueueName, outboundQueueName, partitionOf } from './names.ts';

export interface HubQueuesOptions {
  connection: Redis;
  prefix: string;
  config: QueueConfig;
}

export class HubQueues {
  readonly partitions: number;
  readonly prefix: string;
  private readonly inbound: Queue<InboundJobData>[];
  private readonly outbound: Queue<OutboundJobData>[];
  readonly deadLetter: Queue<DeadLetterJobData>;

  constructor(private readonly opts: HubQueuesOptions) {
    const { connection, prefix, config } = opts;
    this.partitions = config.partitions;
    this.prefix = prefix;
    const make = <T>(name: string) => new Queue<T>(name, { connection, prefix });
    this.inbound = range(this.partitions).map((p) => make<InboundJobData>(inboundQueueName(p)));
    this.outbound = range(this.partitions).map((p) => make<OutboundJobData>(outboundQueueName(p)));
    this.deadLetter = make<DeadLetterJobData>(DEAD_LETTER_QUEUE);
  }

  partitionOf(conversationId: string): number {
    return partitionOf(conversationId, this.partitions);
  }

  inboundQueue(partition: number): Queue<InboundJobData> {
    return this.inbound[partition]!;
  }

  outboundQueue(partition: number): Queue<OutboundJobData> {
    return this.outbound[partition]!;
  }

  /** All queues, for dashboards, metrics and cleanup. */
  all(): Queue[] {
    return [...this.inbound, ...this.outbound, this.deadLetter] as Queue[];
  }

  /**
   * Inbound jobs are retried inside the processor (see inbound-processor.ts) so a retry never lets
   * a later message of the same conversation overtake it; BullMQ itself runs each once.
   */
  async addInbound(message: InboundMessage): Promise<void> {
    const queue = this.inboundQueue(this.partitionOf(message.conversationId));
    await queue.add('message', { message }, { ...this.keep(), jobId: message.id, attempts: 1 });
  }

  /** Same id ⇒ same job: re-adding a reply that is still queued is a no-op. */
  async addOutbound(message: OutboundMessage, receivedAt?: string): Promise<void> {
    const queue = this.outboundQueue(this.partitionOf(message.conversationId));
    await queue.add('send', { message, receivedAt }, this.outboundJobOptions(message.id));
  }

  outboundJobOptions(jobId: string): JobsOptions {
    return {
      ...this.keep(),
      jobId,
      attempts: this.opts.config.outboundAttempts,
      backoff: { type: 'retry-after', delay: this.opts.config.backoff },
    };
  }

  private keep(): JobsOptions {
    return {
      removeOnComplete: { age: Math.ceil(this.opts.config.keepCompleted / 1000) },
      removeOnFail: { age: Math.ceil(this.opts.config.keepFailed / 1000) },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
