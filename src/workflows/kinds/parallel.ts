/**
 * `parallel`: run branches at the same time, in this process, each with its own `timeout`,
 * AbortSignal and `fallback` (one message stays one job: nothing fans out to Redis).
 *
 * ```yaml
 * - id: recall
 *   parallel:
 *     - { id: dify,   dify:   { app: refund-guide }, timeout: 3s }
 *     - { id: kb,     kb:     { collection: after-sales, top: 3 } }
 *     - { id: orders, orders: { query: order_lookup }, timeout: 1s }
 * ```
 *
 * A failed branch does not fail the step: later steps read `steps.<branch id>` (absent when the
 * branch failed without a fallback). The output says how each branch ended:
 * `steps.recall.dify.status` is `ok`, `fallback`, `failed`, `timeout` or `skipped`.
 */
import { z } from 'zod';
import type { StepRecord } from '../../store/types.ts';
import { StepListError } from '../run-errors.ts';
import { issueParams, parseNested } from '../schema-helpers.ts';
import { stepsSchema } from '../step-schema.ts';
import type { StepKind, StepList } from '../types.ts';

export interface BranchOutcome {
  status: StepRecord['status'];
  ms: number;
  error?: string;
}

const input = z.unknown().transform((raw, ctx): StepList => {
  if (!Array.isArray(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: 'parallel is a list of steps (the branches)',
      params: issueParams(),
    });
    return z.NEVER;
  }
  const branches = parseNested(ctx, stepsSchema, raw, []);
  if (!branches) return z.NEVER;
  let ok = true;
  branches.forEach((b, i) => {
    // Default ids of nested steps contain "/", which templates cannot address as steps.<id>.
    if (b.id.includes('/')) {
      ctx.addIssue({
        code: 'custom',
        message: 'give each parallel branch an id: its output is steps.<id>',
        path: [i],
        params: issueParams(),
      });
      ok = false;
    }
  });
  return ok ? branches : z.NEVER;
});

export const parallelKind: StepKind<StepList, Record<string, BranchOutcome>> = {
  kind: 'parallel',
  description: 'run branches at the same time, each with its own timeout and fallback',
  input,
  async run(ctx, branches, signal) {
    const settled = await Promise.allSettled(branches.map((branch) => ctx.runSteps([branch], signal)));
    signal.throwIfAborted();
    const out: Record<string, BranchOutcome> = {};
    branches.forEach((branch, i) => {
      const r = settled[i];
      const record =
        r?.status === 'fulfilled'
          ? r.value[0]
          : r?.reason instanceof StepListError
            ? r.reason.records.at(-1)
            : undefined;
      out[branch.id] = record
        ? { status: record.status, ms: record.ms, ...(record.error ? { error: record.error } : {}) }
        : { status: 'failed', ms: 0, error: r?.status === 'rejected' ? String(r.reason) : 'did not run' };
    });
    return out;
  },
};
