/** Typed job data of every queue. Plain JSON, versioned through the message schemas. */
import type { InboundMessage, OutboundMessage } from '../messages.ts';

export interface InboundJobData {
  message: InboundMessage;
  /** W3C trace context of the span that queued the job, when tracing is on (src/telemetry). */
  traceparent?: string;
}

export interface OutboundJobData {
  message: OutboundMessage;
  /** When the message this answers was received (end-to-end latency metric). */
  receivedAt?: string;
  /** W3C trace context of the span that queued the reply, when tracing is on (src/telemetry). */
  traceparent?: string;
  /** Times the platform asked us to wait (not counted as failed attempts). */
  rateLimitDelays?: number;
  /** When this reply first waited for an earlier reply of its conversation (epoch ms). */
  heldSince?: number;
  /** How many times it has checked for earlier replies while held (sets the next poll delay). */
  orderPolls?: number;
}

export interface InboundJobResult {
  status: 'ok' | 'handoff' | 'no_match' | 'silenced' | 'failed' | 'dead_lettered';
  workflow: string | null;
  replies: string[];
}

export type DeadLetterKind = 'inbound' | 'outbound';

export interface DeadLetterJobData {
  kind: DeadLetterKind;
  /** Queue the job came from, where a replay puts it back. */
  queue: string;
  jobId: string;
  data: InboundJobData | OutboundJobData;
  error: string;
  attempts: number;
  failedAt: string;
  traceId: string;
  conversationId: string;
}
