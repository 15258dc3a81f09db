/** `switchboard dlq list|replay`: inspect and replay dead-lettered jobs (needs only Redis). */
import type { Command } from 'commander';
import { readEnv } from '../config/env.ts';
import { loadHubConfig } from '../config/load-hub.ts';
import { silentLogger } from '../log.ts';
import { checkRedis, createRedis, redisTargetFromEnv } from '../queue/connection.ts';
import { DeadLetters } from '../queue/dead-letters.ts';
import { HubQueues } from '../queue/queues.ts';

async function withDeadLetters<T>(fn: (dl: DeadLetters) => Promise<T>): Promise<T> {
  const env = readEnv();
  const config = await loadHubConfig(env.CONFIG_DIR, null);
  const target = redisTargetFromEnv(env);
  await checkRedis(target);
  const redis = createRedis(target, 'worker');
  const queues = new HubQueues({ connection: redis, prefix: env.QUEUE_PREFIX, config: config.queue });
  try {
    return await fn(new DeadLetters(queues, silentLogger));
  } finally {
    await queues.close();
    await redis.quit();
  }
}

export function registerDlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('dead-lettered messages and replies');
  dlq
    .command('list')
    .description('list dead letters, newest first')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { limit: string; json?: boolean }) => {
      await withDeadLetters(async (dl) => {
        const entries = await dl.list(Number(opts.limit));
        for (const e of entries) {
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(e)}\n`);
            continue;
          }
          const text = 'message' in e.data ? (e.data.message.text ?? '').slice(0, 60) : '';
          process.stdout.write(
            `${e.id}\t${e.kind}\t${e.failedAt}\t${e.conversationId}\t${e.error}\t${JSON.stringify(text)}\n`,
          );
        }
        if (!opts.json) process.stdout.write(`${entries.length} dead letter(s)\n`);
      });
    });
  dlq
    .command('replay')
    .description('put dead letters back on their queues')
    .argument('[ids...]', 'dead-letter ids (from `dlq list`)')
    .option('--all', 'replay every dead letter')
    .action(async (ids: string[], opts: { all?: boolean }) => {
      if (ids.length === 0 && !opts.all) {
        process.stderr.write('switchboard: name dead-letter ids to replay, or pass --all\n');
        process.exit(1);
      }
      const count = await withDeadLetters((dl) => dl.replay(opts.all ? [] : ids));
      process.stdout.write(`replayed ${count} dead letter(s)\n`);
    });
}
