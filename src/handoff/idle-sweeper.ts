/**
 * Gives conversations back to the bot when their agent went quiet: an agent-owned conversation
 * with no message either way for `handoff.idleTimeout` returns to `bot` (event `timed_out`).
 * Every ingress process may run it; the compare-and-set makes each return happen once.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';
import type { HandoffService } from './handoff-service.ts';

export interface IdleSweeperDeps {
  store: Store;
  service: HandoffService;
  idleMs: number;
  everyMs: number;
  logger: Logger;
}

/** One pass; returns how many conversations went back to the bot. */
export async function sweepIdle(
  deps: Pick<IdleSweeperDeps, 'store' | 'service' | 'idleMs'>,
  now = Date.now(),
): Promise<number> {
  const idle = await deps.store.listIdleAgentConversations(new Date(now - deps.idleMs).toISOString());
  let returned = 0;
  for (const conversation of idle) if (await deps.service.timeOut(conversation, deps.idleMs)) returned++;
  return returned;
}

/** Run `sweepIdle` every `everyMs`; resolves the returned stop function once a running pass ended. */
export function startIdleSweeper(deps: IdleSweeperDeps): () => Promise<void> {
  if (deps.idleMs <= 0) return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() =>
      sweepIdle(deps).then(
        (n) => n > 0 && deps.logger.info({ returned: n }, 'idle agent conversations returned to the bot'),
        (err: unknown) => deps.logger.warn({ err }, 'idle sweep failed'),
      ),
    );
  }, deps.everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
