/**
 * Gives conversations back to the bot when their agent went quiet: an agent-owned conversation
 * with no message either way for `handoff.idleTimeout` returns to `bot` (event `timed_out`).
 * Every ingress process may run it; the compare-and-set makes each return happen once.
 * src/handoff/sweeper.ts runs it periodically.
 */
import type { Store } from '../store/types.ts';
import type { HandoffService } from './handoff-service.ts';

export interface IdleSweepDeps {
  store: Store;
  service: HandoffService;
  idleMs: number;
}

/** One pass; returns how many conversations went back to the bot. */
export async function sweepIdle(deps: IdleSweepDeps, now = Date.now()): Promise<number> {
  const idle = await deps.store.listIdleAgentConversations(new Date(now - deps.idleMs).toISOString());
  let returned = 0;
  for (const conversation of idle) if (await deps.service.timeOut(conversation, deps.idleMs)) returned++;
  return returned;
}
