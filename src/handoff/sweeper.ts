/**
 * The periodic hand-off checks of an ingress process: agent conversations gone idle
 * (idle-sweeper.ts) and queued conversations nobody claimed in time (queue-timeout.ts). Each
 * check is off when its timeout is 0. Passes never overlap; a failed pass is logged and the next
 * one runs on time.
 */
import type { Logger } from 'pino';
import { sweepIdle } from './idle-sweeper.ts';
import { type QueueTimeoutDeps, sweepQueueTimeouts } from './queue-timeout.ts';

export interface HandoffSweeperDeps extends QueueTimeoutDeps {
  idleMs: number;
  everyMs: number;
  logger: Logger;
}

/** Start the checks; resolves the returned stop function once a running pass ended. */
export function startHandoffSweeper(deps: HandoffSweeperDeps): () => Promise<void> {
  const checks = [
    { on: deps.idleMs > 0, run: () => sweepIdle(deps), what: 'idle agent conversations returned to the bot' },
    {
      on: deps.waitMs > 0,
      run: () => sweepQueueTimeouts(deps),
      what: 'queued conversations nobody claimed returned to the bot',
    },
  ].filter((check) => check.on);
  if (checks.length === 0) return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      for (const check of checks) {
        try {
          const returned = await check.run();
          if (returned > 0) deps.logger.info({ returned }, check.what);
        } catch (err) {
          deps.logger.warn({ err }, 'hand-off sweep failed; it runs again shortly');
        }
      }
    });
  }, deps.everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
