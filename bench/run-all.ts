/**
 * `npm run bench`: every benchmark, each in its own process, the noisy ones several times; writes
 * bench/results.json (the machine, every run's JSON lines, and per-result medians) and prints the
 * medians. The README's table is made from that file.
 *
 *   npm run bench                      # BENCH_RUNS=3 runs of the noisy benchmarks
 *   BENCH_RUNS=5 BENCH_ONLY=spine,ingress npm run bench
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { REDIS_URL } from '../test/helpers/hub.ts';
import { testServerUrl } from '../test/helpers/pg.ts';
import { median, round } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY?.split(',');

interface BenchSpec {
  name: string;
  file: string;
  runs: number;
  env?: Record<string, string>;
  /** Fields that tell apart the result lines of one benchmark (channel, mode …). */
  keyOf: (line: Record<string, unknown>) => string;
}

const BENCHES: BenchSpec[] = [
  { name: 'spine', file: 'spine.ts', runs: RUNS, keyOf: () => 'spine (pg)' },
  {
    name: 'spine-pglite',
    file: 'spine.ts',
    runs: 1,
    env: { BENCH_STORE: 'pglite' },
    keyOf: () => 'spine (pglite)',
  },
  {
    name: 'ingress',
    file: 'ingress.ts',
    runs: RUNS,
    env: { BENCH_SECONDS: '4' },
    keyOf: (l) => `ingress ${l.channel}`,
  },
  { name: 'kb', file: 'kb.ts', runs: 1, keyOf: (l) => `kb ${l.mode}` },
  { name: 'ws', file: 'ws-sessions.ts', runs: 1, keyOf: () => 'ws-sessions' },
  {
    name: 'scaling',
    file: 'scaling.ts',
    runs: RUNS,
    keyOf: (l) => (l.bench === 'scaling' ? `scaling ${l.workers} worker(s)` : String(l.bench ?? l.scenario)),
  },
];

function runOnce(spec: BenchSpec): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, spec.file)], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${spec.file} exited with ${code}`));
      const lines = out.split('\n').filter((l) => l.startsWith('{'));
      resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.bench));
    });
  });
}

/** Per numeric field, the median over runs; other fields from the first run. */
function medianOf(lines: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...lines[0] };
  for (const [key, value] of Object.entries(out)) {
    if (typeof value !== 'number') continue;
    const values = lines.map((l) => l[key]).filter((v): v is number => typeof v === 'number');
    out[key] = round(median(values), 3);
  }
  return out;
}

async function machine(): Promise<Record<string, unknown>> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const client = new pg.Client({ connectionString: testServerUrl() });
  try {
    await redis.connect();
    await client.connect();
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    const pgVersion = (await client.query('SHOW server_version')).rows[0]?.server_version;
    return {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      redis: redisVersion,
      postgres: pgVersion,
    };
  } finally {
    redis.disconnect();
    await client.end();
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const results: {
    key: string;
    bench: string;
    runs: Record<string, unknown>[];
    median: Record<string, unknown>;
  }[] = [];
  for (const spec of BENCHES.filter((b) => !ONLY || ONLY.includes(b.name))) {
    const byKey = new Map<string, Record<string, unknown>[]>();
    for (let run = 1; run <= spec.runs; run++) {
      process.stderr.write(`bench: ${spec.name} run ${run}/${spec.runs}\n`);
      for (const line of await runOnce(spec)) {
        const key = spec.keyOf(line);
        byKey.set(key, [...(byKey.get(key) ?? []), line]);
      }
    }
    for (const [key, runs] of byKey) results.push({ key, bench: spec.name, runs, median: medianOf(runs) });
  }
  const file = join(import.meta.dirname, 'results.json');
  const report = {
    startedAt: started.toISOString(),
    minutes: round((Date.now() - started.getTime()) / 60_000, 1),
    machine: await machine(),
    runsOfNoisyBenchmarks: RUNS,
    results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  for (const r of results) process.stdout.write(`${JSON.stringify({ key: r.key, ...r.median })}\n`);
  process.stderr.write(`bench: wrote ${file}\n`);
}

await main();
