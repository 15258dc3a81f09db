/** `wait: 500ms`: pause, e.g. to pace a multi-part answer. Ends early (as a failure) when aborted. */
import { setTimeout as sleep } from 'node:timers/promises';
import { durationSchema } from '../../config/duration.ts';
import type { StepKind } from '../types.ts';

export const waitKind: StepKind<number, { ms: number }> = {
  kind: 'wait',
  description: 'pause for a duration (honours timeouts)',
  input: durationSchema,
  async run(_ctx, ms, signal) {
    await sleep(ms, undefined, { signal });
    return { ms };
  },
};
