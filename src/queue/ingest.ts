/**
 * The one way a message enters the hub: validate, dedupe, enqueue — and only then may the caller
 * acknowledge the platform. Webhook routes, the web chat and stream-mode adapters all call this.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import type { IngestOutcome } from '../channels/types.ts';
import { PayloadError, UnavailableError } from '../errors.ts';
import { type InboundDraft, type InboundMessage, toInboundMessage } from '../messages.ts';
import { metrics } from '../metrics.ts';
import { traceIngest } from '../telemetry/job-spans.ts';
import type { DedupeRegistry } from './dedupe.ts';
import type { HubQueues } from './queues.ts';

export type Ingest = (drafts: InboundDraft[]) => Promise<IngestOutcome[]>;

export interface IngestDeps {
  queues: HubQueues;
  dedupe: DedupeRegistry;
  logger: Logger;
}

export function createIngest(deps: IngestDeps): Ingest {
  return async (drafts) => {
    const outcomes: IngestOutcome[] = [];
    // In order: several messages of one callback belong to one conversation more often than not.
    // Each inside an `ingest` span whose trace the job carries on (see src/telemetry/job-spans.ts).
    for (const draft of drafts)
      outcomes.push(await traceIngest(draft, (traced) => ingestOne(deps, normalize(traced))));
    return outcomes;
  };
}

export function normalize(draft: InboundDraft): InboundMessage {
  try {
    return toInboundMessage(draft);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      const field = issue?.path.join('.') ?? '';
      throw new PayloadError(`invalid message field "${field}": ${issue?.message}`, { field, cause: err });
    }
    throw err;
  }
}

async function ingestOne(deps: IngestDeps, message: InboundMessage): Promise<IngestOutcome> {
  const { dedupe, queues, logger } = deps;
  const token = randomUUID();
  const base = { id: message.id, dedupeKey: message.dedupeKey };
  const claim = await redisCall(() => dedupe.claim(message.dedupeKey, token));
  if (claim === 'duplicate') {
    metrics.inbound.inc({ channel: message.channel, outcome: 'duplicate' });
    logger.info({ traceId: message.traceId, dedupeKey: message.dedupeKey }, 'duplicate message ignored');
    return { ...base, status: 'duplicate' };
  }
  if (claim === 'in_flight') {
    throw new UnavailableError('this message is being accepted by another request; retry shortly');
  }
  try {
    await queues.addInbound(message);
  } catch (err) {
    await dedupe.release(message.dedupeKey, token).catch(() => {});
    throw new UnavailableError('could not enqueue the message: Redis is unavailable', { cause: err });
  }
  // Once the job is in Redis the message is safe; a failed confirm only shortens dedupe to the
  // pending window, so it is logged rather than surfaced as a failure.
  await dedupe.confirm(message.dedupeKey, message.id).catch((err: unknown) => {
    logger.warn({ err, traceId: message.traceId }, 'could not confirm dedupe marker');
  });
  metrics.inbound.inc({ channel: message.channel, outcome: 'queued' });
  logger.info(
    { traceId: message.traceId, messageId: message.id, conversationId: message.conversationId, channel: message.channel },
    'message queued',
  );
  return { ...base, status: 'queued' };
}

async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new UnavailableError('Redis is unavailable; retry later', { cause: err });
  }
}
