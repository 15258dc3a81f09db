/**
 * Replies of one conversation leave in the order they were recorded. A conversation's outbound
 * jobs already run one at a time on its partition, but a send that fails is retried later through
 * BullMQ's delayed set, which would let the next reply overtake it. So before sending, a reply
 * checks for an earlier reply of its conversation that is still waiting (`failed` or `held`);
 * if there is one it waits too (`held`), polling with a growing delay, without spending an attempt.
 *
 * Bounded both ways: a reply holds at most `orderHoldMs`, and earlier rows untouched for that long
 * are taken as abandoned, so one lost job can never block a conversation for ever. Replies to
 * different conversations never wait for each other.
 *
 * Polling alone would add up to a poll interval of latency, so a reply that had to wait or retry
 * wakes the next held reply of its conversation as soon as it is sent or dead-lettered.
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { metrics } from '../metrics.ts';
import type { Store } from '../store/types.ts';
import type { OutboundJobData } from './job-types.ts';
import type { HubQueues } from './queues.ts';

export interface ReplyOrderOptions {
  store: Store;
  queues: Pick<HubQueues, 'outboundQueue' | 'partitionOf'>;
  /** Longest a reply waits for earlier ones; 0 turns ordering off. */
  orderHoldMs: number;
  /** First poll delay; doubles per poll up to MAX_POLL_MS. */
  pollMs: number;
}

const MAX_POLL_MS = 5000;

/**
 * How far back an earlier waiting reply holds this one (the `orderWindowMs` of
 * `Store.startDelivery`): the configured hold, or 0 — no holding — when ordering is off, the job
 * cannot be moved to the delayed set (no lock token), or it has already waited the whole hold.
 */
export function orderWindow(
  opts: ReplyOrderOptions,
  job: Job<OutboundJobData>,
  token: string | undefined,
  log: Logger,
): number {
  if (opts.orderHoldMs <= 0 || !token) return 0;
  const { heldSince } = job.data;
  if (heldSince !== undefined && Date.now() - heldSince >= opts.orderHoldMs) {
    log.warn(
      { heldMs: Date.now() - heldSince },
      'an earlier reply is still pending; sending this one anyway',
    );
    return 0;
  }
  return opts.orderHoldMs;
}

/**
 * The store has just marked this reply `held`: park the job in the delayed set until the next
 * poll (a doubling delay), without spending an attempt. The caller then throws DelayedError.
 */
export async function parkHeldReply(
  opts: ReplyOrderOptions,
  job: Job<OutboundJobData>,
  token: string,
  log: Logger,
): Promise<void> {
  const now = Date.now();
  const polls = job.data.orderPolls ?? 0;
  const delay = Math.min(MAX_POLL_MS, Math.max(50, opts.pollMs) * 2 ** polls);
  await job.updateData({ ...job.data, heldSince: job.data.heldSince ?? now, orderPolls: polls + 1 });
  await job.moveToDelayed(now + delay, token);
  metrics.deliveries.inc({ channel: job.data.message.channel, result: 'held' });
  log.info({ delayMs: delay }, 'reply held behind an earlier reply of its conversation');
}

/**
 * After `job` left (sent or dead-lettered): if it was held or retried, others may be held behind
 * it; move the first of them from the delayed set to the front now. Best effort — a reply not
 * woken here still wakes at its next poll.
 */
export async function wakeNextHeldReply(
  opts: ReplyOrderOptions,
  job: Job<OutboundJobData>,
  log: Logger,
): Promise<void> {
  const { message, heldSince, rateLimitDelays } = job.data;
  if (opts.orderHoldMs <= 0) return;
  if (heldSince === undefined && !rateLimitDelays && job.attemptsMade === 0) return;
  try {
    const next = await opts.store.firstHeldReply(message.conversationId);
    if (!next) return;
    const queue = opts.queues.outboundQueue(opts.queues.partitionOf(message.conversationId));
    const held = await queue.getJob(next);
    if (held && (await held.isDelayed())) await held.promote();
  } catch (err) {
    log.debug({ err }, 'could not wake the next held reply; it wakes at its next poll');
  }
}
