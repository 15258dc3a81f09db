/**
 * The dead-letter queue: jobs that failed every attempt, kept with their error until an operator
 * replays them (`switchboard dlq list|replay`, the console). No worker consumes this queue; a
 * dead letter waits there, visible, until replayed or removed.
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { metrics } from '../metrics.ts';
import type { DeadLetterJobData, InboundJobData, OutboundJobData } from './job-types.ts';
import type { HubQueues } from './queues.ts';

export interface DeadLetter extends DeadLetterJobData {
  id: string;
}

export class DeadLetters {
  constructor(
    private readonly queues: HubQueues,
    private readonly logger: Logger,
  ) {}

  async add(entry: DeadLetterJobData): Promise<void> {
    await this.queues.deadLetter.add(entry.kind, entry, {
      jobId: `dl-${entry.jobId}`,
      removeOnComplete: true,
      removeOnFail: true,
    });
    metrics.deadLettered.inc({ kind: entry.kind });
    this.logger.error(
      { traceId: entry.traceId, kind: entry.kind, jobId: entry.jobId, error: entry.error },
      'job dead-lettered',
    );
  }

  async list(limit = 100): Promise<DeadLetter[]> {
    const jobs = await this.queues.deadLetter.getJobs(['wait', 'delayed', 'prioritized'], 0, limit - 1, true);
    return jobs.filter((j): j is Job<DeadLetterJobData> => Boolean(j)).map((j) => ({ ...j.data, id: j.id! }));
  }

  async count(): Promise<number> {
    return this.queues.deadLetter.getJobCountByTypes('wait', 'delayed', 'prioritized');
  }

  /** Put dead letters back on their queues (all when `ids` is empty). Returns how many. */
  async replay(ids: string[] = []): Promise<number> {
    const entries = ids.length > 0 ? await this.byIds(ids) : await this.list(10_000);
    let replayed = 0;
    for (const entry of entries) {
      await this.requeue(entry);
      await this.queues.deadLetter.remove(entry.id);
      replayed++;
      this.logger.info(
        { traceId: entry.traceId, kind: entry.kind, jobId: entry.jobId },
        'dead letter replayed',
      );
    }
    return replayed;
  }

  private async byIds(ids: string[]): Promise<DeadLetter[]> {
    const jobs = await Promise.all(ids.map((id) => this.queues.deadLetter.getJob(id)));
    const missing = ids.filter((_, i) => !jobs[i]);
    if (missing.length > 0) throw new Error(`no dead letter with id ${missing.join(', ')}`);
    return jobs.map((j) => ({ ...j!.data, id: j!.id! }));
  }

  private async requeue(entry: DeadLetter): Promise<void> {
    const partition = this.queues.partitionOf(entry.conversationId);
    if (entry.kind === 'inbound') {
      const queue = this.queues.inboundQueue(partition);
      await queue.remove(entry.jobId).catch(() => 0);
      await this.queues.addInbound((entry.data as InboundJobData).message);
      return;
    }
    const { message } = entry.data as OutboundJobData;
    const queue = this.queues.outboundQueue(partition);
    await queue.remove(entry.jobId).catch(() => 0);
    // The delivery row stays `dead` until the outbound worker marks it `sending`/`sent`; keeping
    // the store out of replay lets the CLI replay while an embedded-store hub is running.
    await this.queues.addOutbound(message);
  }
}
