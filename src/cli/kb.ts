/**
 * `switchboard kb ingest <path> [--collection c]` and `switchboard kb search "…" [--json]`
 * (or `--file queries.txt --json`: one JSON line per query line). Both work on the hub's store —
 * PostgreSQL with DATABASE_URL, else the embedded PGlite in DATA_DIR — so a running hub on the
 * same database sees an ingest within `sources.kb.watchInterval`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  formatIngestReport,
  ingestPath,
  KnowledgeBase,
  queriesFromText,
  searchToJsonLines,
} from '../ai/kb/index.ts';
import { ingestTargets } from '../ai/kb-config.ts';
import { guardedEmbedder, storeKbRepository } from '../ai/kb-source.ts';
import { readEnv } from '../config/env.ts';
import type { HubConfig } from '../config/hub-schema.ts';
import { loadHubConfig } from '../config/load-hub.ts';
import { ConfigError, SwitchboardError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { BreakerRegistry } from '../resilience/breakers.ts';
import { Resilience } from '../resilience/guard.ts';
import { openStore } from '../store/open-store.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { Store } from '../store/types.ts';

type Print = (line: string) => void;

export function registerKbCommand(program: Command): void {
  const kb = program.command('kb').description('the local knowledge base: ingest files, try searches');
  kb.command('ingest')
    .description('ingest a FAQ file or a directory of FAQ files and documents (only changes are written)')
    .argument('<path>', 'file or directory (a directory is the whole collection: missing files are removed)')
    .option(
      '--collection <name>',
      'target collection (default: the one hub.yaml ingests this path into, else sources.kb.defaultCollection)',
    )
    .action(async (path: string, opts: { collection?: string }) => {
      process.exit(
        await runKb(
          (line) => process.stdout.write(`${line}\n`),
          (c, s, p) => kbIngest(c, s, p, path, opts),
        ),
      );
    });
  kb.command('search')
    .description(
      'search the knowledge base; --json prints {"query","results":[{"id","score","question","answer"}]} per query',
    )
    .argument('[query]', 'the question')
    .option('--file <path>', 'one query per line')
    .option('--collection <name>', 'search one collection (default: all)')
    .option('--top <n>', 'results per query', '3')
    .option('--json', 'one JSON line per query')
    .action(async (query: string | undefined, opts: SearchOptions) => {
      process.exit(
        await runKb(
          (line) => process.stdout.write(`${line}\n`),
          (c, s, p) => kbSearch(c, s, p, query, opts),
        ),
      );
    });
}

interface SearchOptions {
  file?: string;
  collection?: string;
  top: string;
  json?: boolean;
}

/** Load config, open the store, run `fn`, close; expected failures are one line on stderr and exit 1. */
export async function runKb(
  print: Print,
  fn: (config: HubConfig, store: Store, print: Print) => Promise<number>,
): Promise<number> {
  const env = readEnv();
  let store: Store | undefined;
  try {
    const config = await loadHubConfig(env.CONFIG_DIR, null);
    store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
    return await fn(config, store, print);
  } catch (err) {
    process.stderr.write(`switchboard kb: ${describe(err)}\n`);
    return 1;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

async function kbIngest(
  config: HubConfig,
  store: Store,
  print: Print,
  path: string,
  opts: { collection?: string },
) {
  const env = readEnv();
  const full = resolve(path);
  const configured = ingestTargets(config.sources.kb, resolve(env.CONFIG_DIR)).find((t) => t.path === full);
  const collection = opts.collection ?? configured?.collection ?? config.sources.kb.defaultCollection;
  const resilience = new Resilience(new BreakerRegistry(config.breaker, silentLogger), silentLogger);
  const report = await ingestPath(full, {
    repository: storeKbRepository((store as SqlStore).db),
    collection,
    embedder: await guardedEmbedder(config.sources.kb, resilience),
  });
  print(formatIngestReport(report));
  // Rejected rows are reported and the rest is ingested; the exit code tells scripts about them.
  return report.errors.length > 0 ? 1 : 0;
}

async function kbSearch(
  config: HubConfig,
  store: Store,
  print: Print,
  query: string | undefined,
  opts: SearchOptions,
) {
  const queries = opts.file ? queriesFromText(await readFile(opts.file, 'utf8')) : query ? [query] : [];
  if (queries.length === 0)
    throw new SwitchboardError('bad_usage', 'give a query, or --file with one query per line');
  const top = Number.parseInt(opts.top, 10);
  if (!Number.isInteger(top) || top < 1)
    throw new SwitchboardError('bad_usage', '--top must be a positive number');
  const resilience = new Resilience(new BreakerRegistry(config.breaker, silentLogger), silentLogger);
  const kb = await KnowledgeBase.open({
    repository: storeKbRepository((store as SqlStore).db),
    embedder: await guardedEmbedder(config.sources.kb, resilience),
  });
  if (kb.collections().length === 0)
    process.stderr.write(
      'switchboard kb: the knowledge base is empty: run `switchboard kb ingest <path>`, or start the hub (it ingests sources.kb.ingest)\n',
    );
  const lines = await searchToJsonLines(kb, queries, { collection: opts.collection, top });
  if (opts.json) {
    for (const line of lines) print(line);
    return 0;
  }
  for (const line of lines) {
    const { query: q, results } = JSON.parse(line) as {
      query: string;
      results: { id: string; score: number; question: string; answer: string }[];
    };
    print(q);
    if (results.length === 0) print('  (no results)');
    for (const [i, r] of results.entries())
      print(`  ${i + 1}. ${r.score.toFixed(3)} [${r.id}] ${r.question} → ${oneLine(r.answer, 80)}`);
  }
  return 0;
}

function describe(err: unknown): string {
  if (err instanceof ConfigError) return `invalid configuration:\n${err.message}`;
  if (err instanceof SwitchboardError && err.code === 'store_locked')
    return `${err.message}.\nA running hub re-ingests the directories listed under sources.kb.ingest by itself when a file changes: edit the file there, or run the hub on PostgreSQL (DATABASE_URL) to ingest from the command line.`;
  return err instanceof Error ? err.message : String(err);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
