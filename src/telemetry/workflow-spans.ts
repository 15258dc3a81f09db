/**
 * Spans of a workflow run: one `workflow <name>` span, active while the run goes (so the HTTP
 * calls its steps make nest under it), and one `step <id>` span per step record, nested as the
 * steps were (parallel branches and fallbacks under their step). Step spans are written when each
 * step reports its record (`RunOptions.onStep`), with the step's own start and end times; the
 * workflow engine itself knows nothing of tracing.
 */
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RunResult, StepProgress, StepRecord } from '../workflows/index.ts';
import { HUB_TRACE_ID, tracer } from './spans.ts';

export interface TracedRun {
  /** Run `fn` with the workflow span active; ends the span with the run's status. */
  run(fn: () => Promise<RunResult>): Promise<RunResult>;
  /** Pass as `RunOptions.onStep`. */
  onStep(record: StepRecord, progress: StepProgress): void;
}

const NOOP: TracedRun = { run: (fn) => fn(), onStep: () => {} };

export function traceWorkflowRun(workflow: string, hubTraceId: string): TracedRun {
  const span = tracer.startSpan(`workflow ${workflow}`, {
    attributes: { [HUB_TRACE_ID]: hubTraceId, 'switchboard.workflow': workflow },
  });
  if (!span.isRecording()) return NOOP;
  const active = trace.setSpan(context.active(), span);
  // Children report before their parent: keep them until the parent's span exists.
  const pending = new Map<string, { record: StepRecord; endedAt: number }[]>();
  const write = (record: StepRecord, endedAt: number, parent: Span) => {
    const startedAt = endedAt - record.ms;
    const step = tracer.startSpan(
      `step ${record.id}`,
      {
        startTime: startedAt,
        attributes: {
          [HUB_TRACE_ID]: hubTraceId,
          'switchboard.step.id': record.id,
          'switchboard.step.kind': record.kind,
          'switchboard.step.status': record.status,
        },
      },
      trace.setSpan(active, parent),
    );
    if (record.error) {
      step.setAttribute('switchboard.step.error', record.error);
      if (record.status === 'failed' || record.status === 'timeout') {
        step.setStatus({ code: SpanStatusCode.ERROR, message: record.error });
      }
    }
    for (const child of pending.get(record.id) ?? []) write(child.record, child.endedAt, step);
    pending.delete(record.id);
    step.end(endedAt);
  };
  return {
    async run(fn) {
      try {
        const result = await context.with(active, fn);
        span.setAttribute('switchboard.run.status', result.status);
        if (result.status === 'failed')
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? 'failed' });
        return result;
      } finally {
        span.end();
      }
    },
    onStep(record, progress) {
      const endedAt = Date.now();
      if (progress.parentId) {
        const list = pending.get(progress.parentId) ?? [];
        list.push({ record, endedAt });
        pending.set(progress.parentId, list);
        return;
      }
      write(record, endedAt, span);
    },
  };
}
