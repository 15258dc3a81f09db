/** `switchboard start [--role all|ingress|worker]`: run the hub until SIGTERM/SIGINT, then drain. */
import type { Command } from 'commander';
import { readEnv } from '../config/env.ts';
import { ConfigError, UnavailableError } from '../errors.ts';
import type { Role } from '../hub.ts';
import { createLogger } from '../log.ts';
import { checkRedis, RedisUnreachableError, redisTargetFromEnv } from '../queue/connection.ts';

const ROLES: Role[] = ['all', 'ingress', 'worker'];

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the hub (HTTP ingress and queue workers)')
    .option('--role <role>', `which part to run: ${ROLES.join(' | ')}`, 'all')
    .action(async (opts: { role: string }) => {
      if (!ROLES.includes(opts.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);
      let env: ReturnType<typeof readEnv>;
      try {
        env = readEnv();
      } catch (err) {
        return fail((err as Error).message);
      }
      const logger = createLogger(env.LOG_LEVEL);
      let hub: Awaited<ReturnType<typeof import('../hub.ts').startHub>>;
      try {
        // Redis first, before the hub's modules load: a missing Redis is one line within seconds.
        await checkRedis(redisTargetFromEnv(env));
        const { startHub } = await import('../hub.ts');
        hub = await startHub({ role: opts.role as Role, env, logger });
      } catch (err) {
        // Expected start-up failures are one clear line each, without a stack trace.
        if (err instanceof RedisUnreachableError || err instanceof UnavailableError) return fail(err.message);
        if (err instanceof ConfigError) return fail(`invalid configuration:\n${err.message}`);
        if (err instanceof Error && /DATABASE_URL|EADDRINUSE|data directory/.test(err.message))
          return fail(err.message);
        throw err;
      }
      if (hub.url) process.stderr.write(`switchboard: listening on ${hub.url} (role ${hub.role})\n`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting without draining');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down: draining in-flight jobs');
        await hub.stop();
        logger.info('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
    });
}

function fail(message: string): never {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(1);
}
