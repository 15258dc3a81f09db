/**
 * Spans of a message's hops through the queues:
 *
 *   ingest (PRODUCER, on the ingress) ─job data `traceparent`→ process inbound-<p> (CONSUMER, on a
 *   worker) ─→ workflow … ─job data `traceparent`→ process outbound-<p> (CONSUMER) ─→ HTTP send
 *
 * Every span carries the hub's trace id (`switchboard.trace_id`). A message that arrives without
 * one takes the OpenTelemetry trace id as its hub trace id, so log lines and traces share one id.
 * Conversation ids are not recorded: for the web chat they contain the visitor's session secret.
 */
import type { Job } from 'bullmq';
import type { InboundDraft } from '../messages.ts';
import type { InboundJobData, OutboundJobData } from '../queue/job-types.ts';
import { activeRecordingTraceId, contextFromTraceparent, HUB_TRACE_ID, inSpan, SpanKind } from './spans.ts';
import { tracingEnabled } from './tracing.ts';

/** A queue processor as src/queue defines them: a plain function of the job. */
type JobProcessor<D, R> = (job: Job<D>, token?: string) => Promise<R>;

/** What ingest reports about one accepted message. */
interface IngestResult {
  id: string;
  status: string;
}

/** Ingest one draft inside an `ingest` span; `ingestOne` receives the draft with its trace id set. */
export function traceIngest<R extends IngestResult>(
  draft: InboundDraft,
  ingestOne: (draft: InboundDraft) => Promise<R>,
): Promise<R> {
  return inSpan(
    'ingest',
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'switchboard.channel': draft.channel, 'switchboard.channel_id': draft.channelId },
    },
    async (span) => {
      const traceId = draft.traceId ?? activeRecordingTraceId();
      const result = await ingestOne(traceId && !draft.traceId ? { ...draft, traceId } : draft);
      if (span.isRecording()) {
        span.setAttributes({
          ...(traceId ? { [HUB_TRACE_ID]: traceId } : {}),
          'switchboard.message_id': result.id,
          'switchboard.ingest.outcome': result.status,
        });
      }
      return result;
    },
  );
}

/**
 * A queue processor run inside a `process <queue>` span that continues the trace carried in the
 * job data, with the job's own attributes added to the common messaging ones.
 */
function traceJobs<
  D extends { traceparent?: string; message: { traceId: string; channel: string } },
  R extends { status: string },
>(
  processor: JobProcessor<D, R>,
  attributesOf: (job: Job<D>) => Record<string, string | number>,
): JobProcessor<D, R> {
  if (!tracingEnabled()) return processor;
  return (job, token) =>
    inSpan(
      `process ${job.queueName}`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextFromTraceparent(job.data.traceparent),
        attributes: {
          [HUB_TRACE_ID]: job.data.message.traceId,
          'switchboard.channel': job.data.message.channel,
          'messaging.system': 'bullmq',
          'messaging.destination.name': job.queueName,
          'messaging.message.id': job.id ?? '',
          ...attributesOf(job),
        },
      },
      async (span) => {
        const result = await processor(job, token);
        span.setAttribute('switchboard.result', result.status);
        return result;
      },
    );
}

/** The inbound processor, each job run inside a `process <queue>` span continuing the ingest trace. */
export function traceInboundJobs<R extends { status: string }>(
  processor: JobProcessor<InboundJobData, R>,
): JobProcessor<InboundJobData, R> {
  return traceJobs(processor, (job) => ({ 'switchboard.message_id': job.data.message.id }));
}

/** The outbound processor, each attempt inside a `process <queue>` span continuing the run's trace. */
export function traceOutboundJobs<R extends { status: string }>(
  processor: JobProcessor<OutboundJobData, R>,
): JobProcessor<OutboundJobData, R> {
  return traceJobs(processor, (job) => ({
    'switchboard.reply_id': job.data.message.id,
    'switchboard.attempt': job.attemptsMade + 1,
  }));
}
