/**
 * Processor of the `outbound-<p>` queues: deliver one reply through its channel adapter.
 *
 * Idempotent at the edge: the delivery row (keyed by the reply's idempotency key) is checked
 * before sending and marked `sent` right after, so a replayed or re-added job does not send
 * twice. The only window left is a crash between the platform accepting the send and the mark;
 * see docs/architecture.md for what each channel can do about it.
 *
 * Replies of one conversation leave in recorded order, also while an earlier one is being retried
 * (src/queue/reply-order.ts). Each channel instance has its own circuit breaker: while a platform
 * is down, sends fail at once and the jobs back off (exponentially, or as long as the platform
 * asked) instead of hammering it.
 * After the last attempt the reply is dead-lettered, never dropped.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { AdapterSet } from '../channels/registry.ts';
import { ChannelSendError, errorMessage, isRetryable } from '../errors.ts';
import { metrics } from '../metrics.ts';
import type { BreakerRegistry } from '../resilience/breakers.ts';
import type { Store } from '../store/types.ts';
import type { DeadLetters } from './dead-letters.ts';
import type { OutboundJobData } from './job-types.ts';
import type { HubQueues } from './queues.ts';
import { orderWindow, parkHeldReply, type ReplyOrderOptions, wakeNextHeldReply } from './reply-order.ts';

export interface OutboundProcessorDeps {
  store: Store;
  adapters: AdapterSet;
  breakers: BreakerRegistry;
  deadLetters: DeadLetters;
  logger: Logger;
  queues: HubQueues;
  /** Keep each conversation's replies in order while earlier ones are retried. */
  order: Pick<ReplyOrderOptions, 'orderHoldMs' | 'pollMs'>;
}

const orderOptions = (deps: OutboundProcessorDeps): ReplyOrderOptions => ({
  store: deps.store,
  queues: deps.queues,
  ...deps.order,
});

export type OutboundResult = { status: 'sent'; platformMessageId?: string } | { status: 'already_sent' };

export function createOutboundProcessor(deps: OutboundProcessorDeps) {
  return async function processOutbound(job: Job<OutboundJobData>, token?: string): Promise<OutboundResult> {
    const { message } = job.data;
    const log = deps.logger.child({ traceId: message.traceId, replyId: message.id });
    const adapter = deps.adapters.get(message.channel, message.channelId);
    if (!adapter) {
      return fail(
        deps,
        job,
        new UnrecoverableError(`channel ${message.channel}/${message.channelId} is not configured`),
        log,
      );
    }
    // One statement: already sent? else mark `sending`, or `held` behind an earlier reply.
    const ref = {
      idempotencyKey: message.idempotencyKey,
      conversationId: message.conversationId,
      messageId: message.id,
    };
    const window = orderWindow(orderOptions(deps), job, token, log);
    let started = await deps.store.startDelivery(ref, window);
    if (started === null) {
      // A reply enqueued while the store was down (the apology path) is recorded now.
      await deps.store.recordOutbound(message);
      started = await deps.store.startDelivery(ref, window);
    }
    if (started === 'sent') {
      metrics.deliveries.inc({ channel: message.channel, result: 'skipped_duplicate' });
      log.info('reply already delivered; not sending again');
      return { status: 'already_sent' };
    }
    if (started === 'held' && token) {
      await parkHeldReply(orderOptions(deps), job, token, log);
      throw new DelayedError();
    }
    const breaker = deps.breakers.for(`channel:${message.channel}:${message.channelId}`);
    const controller = new AbortController();
    try {
      const result = await breaker.execute(() =>
        adapter.send(message, { logger: log, signal: controller.signal }),
      );
      await deps.store.updateDelivery(message.idempotencyKey, 'sent', {
        platformMessageId: result.platformMessageId ?? null,
      });
      metrics.deliveries.inc({ channel: message.channel, result: 'sent' });
      const receivedAt = Date.parse(job.data.receivedAt ?? message.createdAt);
      metrics.endToEnd.observe({ channel: message.channel }, (Date.now() - receivedAt) / 1000);
      log.info({ channel: message.channel, author: message.author }, 'reply delivered');
      await wakeNextHeldReply(orderOptions(deps), job, log);
      return { status: 'sent', platformMessageId: result.platformMessageId };
    } catch (err) {
      controller.abort();
      if (await delayForRateLimit(deps, job, err, token, log)) throw new DelayedError();
      return fail(deps, job, err, log);
    }
  };
}

async function fail(
  deps: OutboundProcessorDeps,
  job: Job<OutboundJobData>,
  err: unknown,
  log: Logger,
): Promise<never> {
  const { message } = job.data;
  const attempts = job.opts.attempts ?? 1;
  const final = err instanceof UnrecoverableError || !isRetryable(err) || job.attemptsMade + 1 >= attempts;
  const lastError = errorMessage(err);
  await deps.store
    .updateDelivery(message.idempotencyKey, final ? 'dead' : 'failed', { lastError })
    .catch(() => {});
  if (!final) {
    metrics.deliveries.inc({ channel: message.channel, result: 'retry' });
    log.warn({ err: lastError, attempt: job.attemptsMade + 1, of: attempts }, 'send failed; will retry');
    throw err;
  }
  metrics.deliveries.inc({ channel: message.channel, result: 'dead' });
  await deps.deadLetters.add({
    kind: 'outbound',
    queue: job.queueName,
    jobId: job.id!,
    data: job.data,
    error: lastError,
    attempts: job.attemptsMade + 1,
    failedAt: new Date().toISOString(),
    traceId: message.traceId,
    conversationId: message.conversationId,
  });
  await wakeNextHeldReply(orderOptions(deps), job, log);
  throw err instanceof UnrecoverableError ? err : new UnrecoverableError(lastError);
}

/** How many "wait N seconds" answers a reply may get before they start counting as failed attempts. */
const MAX_RATE_LIMIT_DELAYS = 20;

/**
 * A platform that says "slow down, retry in N s" (HTTP 429, Telegram `retry_after`, WeCom's
 * frequency limits) has not failed the send: wait as asked without spending one of the job's
 * attempts, so a burst is delayed, never dead-lettered. Bounded, so a platform that only ever
 * says "later" still ends in the dead-letter queue.
 */
async function delayForRateLimit(
  deps: OutboundProcessorDeps,
  job: Job<OutboundJobData>,
  err: unknown,
  token: string | undefined,
  log: Logger,
): Promise<boolean> {
  if (!(err instanceof ChannelSendError) || !err.retryAfterSec || !token) return false;
  const delays = job.data.rateLimitDelays ?? 0;
  if (delays >= MAX_RATE_LIMIT_DELAYS) return false;
  const { message } = job.data;
  await job.updateData({ ...job.data, rateLimitDelays: delays + 1 });
  await job.moveToDelayed(Date.now() + err.retryAfterSec * 1000, token);
  await deps.store
    .updateDelivery(message.idempotencyKey, 'failed', { lastError: errorMessage(err) })
    .catch(() => {});
  metrics.deliveries.inc({ channel: message.channel, result: 'rate_limited' });
  log.warn(
    { retryAfterSec: err.retryAfterSec, delays: delays + 1 },
    'platform asked us to slow down; send delayed',
  );
  return true;
}
