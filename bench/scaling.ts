/**
 * Scale-out: the same load through one ingress and 1, then 2, worker processes (`switchboard start
 * --role …` children sharing Redis and PostgreSQL), replies counted by a fake platform. Prints one
 * JSON line per worker count and one with the speedup.
 *
 *   npm run bench:scaling                   # 2,000 messages, 200 conversations, 16 partitions
 *   BENCH_MESSAGES=5000 BENCH_WORKERS=1,2,4 npm run bench:scaling
 *
 * Every process — ingress, workers, Redis, PostgreSQL, the load — shares this machine's cores:
 * on a small machine the speedup says how much of a worker's time was its own CPU.
 */
import { CHANNEL_ID, startChaosCluster, TOKEN } from '../test/fakes/chaos-cluster.ts';
import { report, sendLoad, sleep, waitForReplies } from '../test/fakes/chaos-load.ts';
import { scrape } from '../test/fakes/chaos-metrics.ts';
import { emit, round } from './stats.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const PARTITIONS = 16;
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const ECHO = 'name: echo\ndefault: true\nsteps:\n  - reply: "echo: {{ message.text }}"\n';

async function measure(workers: number): Promise<number> {
  const cluster = await startChaosCluster({
    workflows: { 'echo.yaml': ECHO },
    settingsYaml: `queue:\n  partitions: ${PARTITIONS}\n`,
    logLevel: 'error',
  });
  try {
    await cluster.spawn('ingress');
    const children = await Promise.all(Array.from({ length: workers }, () => cluster.spawn('worker')));
    // Wait until the workers have shared the partitions out.
    for (let i = 0; i < 300; i++) {
      const owned = await Promise.all(children.map((c) => scrape(c.url, 'switchboard_owned_partitions')));
      if (owned.every((n) => n > 0) && owned.reduce((a, b) => a + b, 0) === PARTITIONS) break;
      await sleep(100);
    }
    const started = performance.now();
    const load = await sendLoad({
      ingress: () => cluster.ingressUrls(),
      channelId: CHANNEL_ID,
      token: TOKEN,
      messages: MESSAGES,
      conversations: 200,
      concurrency: 32,
      idPrefix: `scale${workers}`,
    });
    await waitForReplies(cluster.platform, load, 300_000);
    const last = Math.max(...cluster.platform.received.map((r) => r.at));
    const seconds = (last - started) / 1000;
    const summary = report(`scaling-${workers}`, load, cluster.platform, (t) => `echo: ${t}`);
    const msgsPerSec = MESSAGES / seconds;
    emit({
      bench: 'scaling',
      workers,
      messages: MESSAGES,
      partitions: PARTITIONS,
      msgsPerSec: round(msgsPerSec),
      p50Ms: summary.p50Ms,
      p99Ms: summary.p99Ms,
      lost: summary.lost,
      duplicated: summary.duplicated,
    });
    return msgsPerSec;
  } finally {
    await cluster.stop();
  }
}

const rates: number[] = [];
for (const workers of WORKERS) rates.push(await measure(workers));
emit({
  bench: 'scaling-summary',
  workers: WORKERS,
  msgsPerSec: rates.map((r) => round(r)),
  speedup: round((rates.at(-1) ?? 0) / (rates[0] ?? 1), 2),
});
