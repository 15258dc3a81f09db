/**
 * Processor of the `inbound-<p>` queues: one message → record → workflow → replies queued.
 *
 * Retries happen here, in-line, instead of through BullMQ's delayed retries: a BullMQ retry would
 * park the job and let the conversation's next message overtake it. After the last attempt the
 * message is dead-lettered and the visitor gets the configured apology — never silence.
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { errorMessage, isRetryable } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { InboundMessage } from '../messages.ts';
import type { DeadLetters } from './dead-letters.ts';
import type { InboundJobData, InboundJobResult } from './job-types.ts';
import type { ReplyDispatcher } from './reply-dispatch.ts';

export type InboundHandler = (message: InboundMessage, signal: AbortSignal) => Promise<InboundJobResult>;

export interface InboundProcessorDeps {
  handle: InboundHandler;
  dispatcher: ReplyDispatcher;
  deadLetters: DeadLetters;
  bus: EventBus;
  logger: Logger;
  attempts: number;
  backoffMs: number;
  apologyText: string;
}

export function createInboundProcessor(deps: InboundProcessorDeps) {
  return async function processInbound(job: Job<InboundJobData>): Promise<InboundJobResult> {
    const { message } = job.data;
    const log = deps.logger.child({ traceId: message.traceId, messageId: message.id });
    let lastError: unknown;
    for (let attempt = 1; attempt <= deps.attempts; attempt++) {
      const controller = new AbortController();
      try {
        return await deps.handle(message, controller.signal);
      } catch (err) {
        controller.abort();
        lastError = err;
        const final = attempt === deps.attempts || !isRetryable(err);
        log.warn({ err: errorMessage(err), attempt, final }, 'handling the message failed');
        if (final) break;
        await sleep(deps.backoffMs * 2 ** (attempt - 1));
      }
    }
    return deadLetter(deps, job, message, lastError, log);
  };
}

async function deadLetter(
  deps: InboundProcessorDeps,
  job: Job<InboundJobData>,
  message: InboundMessage,
  error: unknown,
  log: Logger,
): Promise<InboundJobResult> {
  await deps.deadLetters.add({
    kind: 'inbound',
    queue: job.queueName,
    jobId: job.id!,
    data: job.data,
    error: errorMessage(error),
    attempts: deps.attempts,
    failedAt: new Date().toISOString(),
    traceId: message.traceId,
    conversationId: message.conversationId,
  });
  const apology = deps.dispatcher.answer(message, [{ kind: 'text', text: deps.apologyText }], {
    suffix: 'apology-',
    author: 'system',
  });
  try {
    await deps.dispatcher.dispatch(apology);
  } catch (err) {
    // The store may be what is down; the apology still goes out through the queue alone.
    log.warn({ err: errorMessage(err) }, 'could not record the apology; sending it unrecorded');
    await deps.dispatcher.enqueueOnly(apology);
  }
  await deps.bus
    .publish(message.conversationId, {
      type: 'run',
      inboundId: message.id,
      status: 'dead_lettered',
      replyIds: apology.map((m) => m.id),
    })
    .catch(() => {});
  return { status: 'dead_lettered', workflow: null, replies: apology.map((m) => m.id) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
