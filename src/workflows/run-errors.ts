/** Errors of a workflow run. All are retryable: a timeout or a flaky source may well pass next time. */
import { SwitchboardError } from '../errors.ts';
import type { StepRecord } from '../store/types.ts';

/** A step ran past its timeout (its AbortSignal was aborted with this reason). */
export class StepTimeoutError extends SwitchboardError {
  constructor(
    readonly stepId: string,
    readonly timeoutMs: number,
  ) {
    super('step_timeout', `step "${stepId}" timed out after ${timeoutMs}ms`, { retryable: true });
  }
}

/** The whole run ran past `runTimeoutMs`. */
export class RunTimeoutError extends SwitchboardError {
  constructor(readonly timeoutMs: number) {
    super('run_timeout', `workflow run timed out after ${timeoutMs}ms`, { retryable: true });
  }
}

/**
 * A step list stopped on a step that failed (or timed out) without a usable fallback.
 * `records` are the records of the list so far, the failing one last.
 */
export class StepListError extends SwitchboardError {
  constructor(
    message: string,
    readonly records: StepRecord[],
    /** How the failing step ended. */
    readonly outcome: 'failed' | 'timeout',
  ) {
    super('step_failed', message, { retryable: true });
  }
}

/** Thrown by `ctx.skip()`: the step ends with status `skipped`. */
export class StepSkipped extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? 'skipped');
    this.name = 'StepSkipped';
  }
}

/** Reject with `signal.reason` as soon as `signal` aborts, even if `promise` ignores the signal. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A child AbortController that aborts with its parent and after `timeoutMs` (with `onTimeout()`).
 * `dispose()` clears the timer and the parent listener: nothing is left behind per message, even
 * when the parent signal lives for the whole process (a worker's shutdown signal).
 */
export function childAbort(parent: AbortSignal | undefined, timeoutMs: number, onTimeout: () => unknown) {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  // setTimeout overflows past 2^31-1 ms (it would fire at once): clamp to ~24.8 days.
  const timer = setTimeout(() => controller.abort(onTimeout()), Math.min(timeoutMs, 2_147_483_647));
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
