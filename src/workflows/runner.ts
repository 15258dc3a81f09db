/**
 * Runs a compiled workflow for one message. Pure with respect to the outside world: it returns
 * replies, a hand-off request and step records, and the caller applies them (so a dry run is
 * the same code path with nothing applied). Never throws for a failing step or a timeout.
 */
import { errorMessage } from '../errors.ts';
import type { InboundMessage } from '../messages.ts';
import type { Conversation, StepRecord } from '../store/types.ts';
import {
  childAbort,
  RunTimeoutError,
  raceAbort,
  StepListError,
  StepSkipped,
  StepTimeoutError,
} from './run-errors.ts';
import { type RunOptions, RunState, RunStepContext } from './run-state.ts';
import type { CompiledStep, ReplyDraft, StepList } from './types.ts';
import type { Workflow } from './workflow.ts';

export { DEFAULT_HANDOFF_REPLY, type KindSource, type RunOptions, type StepProgress } from './run-state.ts';

export interface RunResult {
  /** Matched workflow name (null is used by callers for "nothing matched"). */
  workflow: string | null;
  status: 'ok' | 'failed' | 'handoff' | 'no_match';
  /** Top-level step records in execution order; nested ones under `children`. */
  steps: StepRecord[];
  replies: ReplyDraft[];
  handoff?: { queue: string; reason?: string; reply?: string };
  vars: Record<string, unknown>;
  /** Set when status is `failed`. */
  error?: string;
  durationMs: number;
}

/** Run `workflow` for one message. Resolves with the outcome; only a programming error rejects. */
export async function runWorkflow(
  workflow: Workflow,
  input: { message: InboundMessage; conversation: Conversation },
  opts: RunOptions,
): Promise<RunResult> {
  const started = performance.now();
  const state = new RunState(
    workflow,
    input.message,
    input.conversation,
    opts,
    opts.services ?? {},
    runSteps,
  );
  const run = childAbort(opts.signal, opts.runTimeoutMs, () => new RunTimeoutError(opts.runTimeoutMs));
  const records: StepRecord[] = [];
  let status: RunResult['status'] = 'ok';
  let error: string | undefined;
  try {
    await runSteps(state, workflow.steps, run.signal, records, 0);
    if (state.handoff) status = 'handoff';
  } catch (err) {
    status = 'failed';
    error = run.signal.aborted ? abortMessage(run.signal.reason) : errorMessage(err);
    state.logger.warn({ err: error }, 'workflow run failed');
  } finally {
    run.dispose();
  }
  return {
    workflow: workflow.name,
    status,
    steps: records,
    replies: state.replies,
    ...(state.handoff ? { handoff: state.handoff } : {}),
    vars: state.vars,
    ...(error !== undefined ? { error } : {}),
    durationMs: round(performance.now() - started),
  };
}

function abortMessage(reason: unknown): string {
  if (reason instanceof RunTimeoutError) return reason.message;
  return `run aborted: ${errorMessage(reason ?? 'aborted')}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Run a list in order into `sink`; throws `StepListError` on a step that failed without fallback. */
async function runSteps(
  state: RunState,
  list: StepList,
  signal: AbortSignal,
  sink: StepRecord[],
  depth: number,
  parentId?: string,
): Promise<StepRecord[]> {
  const added: StepRecord[] = [];
  for (const step of list) {
    if (state.stopped) break;
    signal.throwIfAborted();
    const record = await runStep(state, step, signal, depth);
    sink.push(record);
    added.push(record);
    state.opts.onStep?.(record, { depth, ...(parentId ? { parentId } : {}) });
    if (record.status === 'failed' || record.status === 'timeout') {
      const message =
        record.status === 'timeout' && record.error?.startsWith('timed out')
          ? `step "${step.id}" ${record.error}`
          : `step "${step.id}" failed: ${record.error}`;
      throw new StepListError(message, added, record.status);
    }
  }
  return added;
}

type Outcome =
  | { ok: true; output: unknown }
  | { ok: false; skipped: true; reason?: string }
  | { ok: false; skipped: false; error: unknown; status: 'failed' | 'timeout'; aborted: boolean };

async function runStep(
  state: RunState,
  step: CompiledStep,
  signal: AbortSignal,
  depth: number,
): Promise<StepRecord> {
  const started = performance.now();
  const children: StepRecord[][] = [];
  const outcome = await attempt(state, step, signal, depth, children);
  const base = { id: step.id, kind: step.kind };
  const finish = (rec: Omit<StepRecord, 'id' | 'kind' | 'ms'>): StepRecord => {
    const flat = children.flat();
    return {
      ...base,
      ...rec,
      ms: round(performance.now() - started),
      ...(flat.length > 0 ? { children: flat } : {}),
    };
  };

  if (outcome.ok) {
    state.steps[step.id] = outcome.output;
    return finish({ status: 'ok', ...(outcome.output !== undefined ? { output: outcome.output } : {}) });
  }
  if (outcome.skipped)
    return finish({ status: 'skipped', ...(outcome.reason ? { output: { reason: outcome.reason } } : {}) });

  const message = errorMessage(outcome.error);
  if (!step.fallback || outcome.aborted) {
    state.logger.warn({ step: step.id, kind: step.kind, err: message }, 'step failed');
    return finish({ status: outcome.status, error: message });
  }
  state.logger.info({ step: step.id, kind: step.kind, err: message }, 'step failed, running its fallback');
  const group: StepRecord[] = [];
  children.push(group);
  try {
    await runSteps(state, step.fallback, signal, group, depth + 1, step.id);
  } catch (err) {
    return finish({ status: 'failed', error: `${message}; fallback failed: ${errorMessage(err)}` });
  }
  const last = [...group].reverse().find((r) => r.status === 'ok' || r.status === 'fallback');
  if (last?.output !== undefined) state.steps[step.id] = last.output;
  return finish({
    status: 'fallback',
    error: message,
    ...(last?.output !== undefined ? { output: last.output } : {}),
  });
}

async function attempt(
  state: RunState,
  step: CompiledStep,
  parent: AbortSignal,
  depth: number,
  children: StepRecord[][],
): Promise<Outcome> {
  const timeoutMs = step.timeoutMs ?? state.opts.stepTimeoutMs;
  const own = childAbort(parent, timeoutMs, () => new StepTimeoutError(step.id, timeoutMs));
  const ctx = new RunStepContext(state, step, depth, children);
  try {
    if (step.when && !ctx.evaluate(step.when)) return { ok: false, skipped: true };
    const kind = state.opts.kinds.get(step.kind);
    if (!kind) throw new Error(`unknown step kind "${step.kind}" (not registered in this hub)`);
    let running: Promise<unknown>;
    try {
      running = kind.run(ctx, step.input as never, own.signal);
    } catch (err) {
      running = Promise.reject(err);
    }
    return { ok: true, output: await raceAbort(running, own.signal) };
  } catch (err) {
    if (err instanceof StepSkipped) return { ok: false, skipped: true, reason: err.reason };
    if (parent.aborted) {
      const reason = parent.reason;
      const timedOut = reason instanceof RunTimeoutError || reason instanceof StepTimeoutError;
      return {
        ok: false,
        skipped: false,
        error: reason ?? err,
        status: timedOut ? 'timeout' : 'failed',
        aborted: true,
      };
    }
    if (
      own.signal.aborted &&
      own.signal.reason instanceof StepTimeoutError &&
      own.signal.reason.stepId === step.id
    ) {
      return {
        ok: false,
        skipped: false,
        error: `timed out after ${timeoutMs}ms`,
        status: 'timeout',
        aborted: false,
      };
    }
    return { ok: false, skipped: false, error: err, status: 'failed', aborted: false };
  } finally {
    own.dispose();
  }
}
