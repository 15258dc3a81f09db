/**
 * Trace context across queue hops: every job added while a span is active carries that span's
 * W3C `traceparent` in its data (`InboundJobData.traceparent`, `OutboundJobData.traceparent`), and
 * the processors continue the trace from it — across processes and machines, like the job itself.
 *
 * The producers (`HubQueues.addInbound`, `addOutbound`, dead-letter replays) are left as they are:
 * each queue's `add` is wrapped once, when tracing is on. Off, nothing is wrapped.
 */
import type { Queue } from 'bullmq';
import { currentTraceparent } from './spans.ts';

const WRAPPED = Symbol('switchboard.traceparent');

export function propagateTraceContext(queues: Queue[]): void {
  for (const queue of queues) {
    const marked = queue as Queue & { [WRAPPED]?: true };
    if (marked[WRAPPED]) continue;
    marked[WRAPPED] = true;
    const add = queue.add.bind(queue);
    queue.add = ((name, data, opts) => add(name, withTraceparent(data), opts)) as Queue['add'];
  }
}

function withTraceparent<T>(data: T): T {
  if (!data || typeof data !== 'object' || Array.isArray(data) || 'traceparent' in data) return data;
  const traceparent = currentTraceparent();
  return traceparent ? { ...data, traceparent } : data;
}
