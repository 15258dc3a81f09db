/**
 * The hub's knowledge base at run time: opened on the hub's store, kept fresh by polling the
 * store's version (another process's `kb ingest`), and — for the directories listed under
 * `sources.kb.ingest` — ingested at start and again whenever a file there changes, so the demo
 * has its FAQ on first start and an edited FAQ goes live without any command.
 *
 * ```yaml
 * sources:
 *   kb:
 *     watchInterval: 2s
 *     ingest:
 *       - { path: kb, collection: after-sales }    # relative to the config directory
 * ```
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveCallSettings } from '../resilience/config.ts';
import type { Resilience } from '../resilience/guard.ts';
import type { Executor } from '../store/executor.ts';
import {
  createOpenAIEmbedder,
  formatIngestReport,
  type IngestReport,
  ingest,
  type KbEmbedder,
  type KbRepository,
  KnowledgeBase,
  SqlKbRepository,
} from './kb/index.ts';
import { ingestTargets, type KbSourceConfig } from './kb-config.ts';

/** The KB repository on the hub store's executor (same call shape, looser row type). */
export function storeKbRepository(db: Executor): KbRepository {
  return new SqlKbRepository({
    query: <T>(sql: string, params?: unknown[]) => db.query(sql, params) as Promise<T[]>,
  });
}

/**
 * The configured embedder, its calls guarded (target `embeddings`); null when none is configured.
 * @see https://platform.openai.com/docs/api-reference/embeddings/create
 */
export async function guardedEmbedder(
  config: KbSourceConfig,
  resilience: Resilience,
): Promise<KbEmbedder | null> {
  if (!config.embeddings) return null;
  const inner = await createOpenAIEmbedder(config.embeddings);
  const settings = resolveCallSettings(
    { timeoutMs: config.embeddings.timeout, retries: 1, backoffMs: 200, concurrency: 8, queue: 256 },
    config.embeddings,
  );
  const call = <T>(fn: () => Promise<T>) => resilience.call('embeddings', settings, fn);
  return {
    model: inner.model,
    ...(inner.maxSimilar !== undefined ? { maxSimilar: inner.maxSimilar } : {}),
    embedDocuments: (texts) => call(() => inner.embedDocuments(texts)),
    embedQuery: (text) => call(() => inner.embedQuery(text)),
  };
}

export interface KbSourceOptions {
  config: KbSourceConfig;
  configDir: string;
  repository: KbRepository;
  embedder: KbEmbedder | null;
  logger: Logger;
  /** Poll for changes (the hub); off for one-shot use. */
  watch: boolean;
}

/** An open knowledge base plus the auto-ingest of the configured directories. */
export class KbSource {
  #stops: (() => void)[] = [];
  #signatures = new Map<string, string>();

  private constructor(
    readonly kb: KnowledgeBase,
    private readonly opts: KbSourceOptions,
  ) {}

  /** Ingest the configured paths (only what changed is written), open the KB and start watching. */
  static async open(opts: KbSourceOptions): Promise<KbSource> {
    const logger = opts.logger.child({ source: 'kb' });
    const kb = await KnowledgeBase.open({
      repository: opts.repository,
      embedder: opts.embedder,
      logger,
      onError: (err) =>
        logger.warn({ err }, 'knowledge base refresh failed; the previous index keeps serving'),
    });
    const source = new KbSource(kb, { ...opts, logger });
    // A failed ingest (an embeddings endpoint down) must not keep the hub from starting: what is
    // stored keeps serving, and the next poll tries again.
    await source
      .ingestChanged()
      .catch((err: unknown) => logger.error({ err }, 'ingest of the knowledge directory failed'));
    if (opts.watch) {
      source.#stops.push(kb.watch(opts.config.watchInterval));
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        source
          .ingestChanged()
          .catch((err: unknown) => logger.warn({ err }, 're-ingest of the knowledge directory failed'))
          .finally(() => {
            busy = false;
          });
      }, opts.config.watchInterval);
      timer.unref();
      source.#stops.push(() => clearInterval(timer));
    }
    return source;
  }

  /** Ingest each configured path whose files changed since the last look; reload the index if anything moved. */
  async ingestChanged(): Promise<IngestReport[]> {
    const reports: IngestReport[] = [];
    for (const target of ingestTargets(this.opts.config, this.opts.configDir)) {
      if (!existsSync(target.path)) {
        this.opts.logger.debug({ path: target.path }, 'knowledge path not found; skipped');
        continue;
      }
      const signature = await signatureOf(target.path);
      const key = `${target.collection}\n${target.path}`;
      if (this.#signatures.get(key) === signature) continue;
      const report = await ingest(target.path, {
        repository: this.opts.repository,
        collection: target.collection,
        embedder: this.opts.embedder,
      });
      this.#signatures.set(key, signature);
      reports.push(report);
      const changed = report.added + report.updated + report.removed > 0;
      const log = report.errors.length > 0 ? 'warn' : changed ? 'info' : 'debug';
      this.opts.logger[log]({ path: target.path }, formatIngestReport(report));
    }
    if (reports.some((r) => r.added + r.updated + r.removed > 0)) await this.kb.refresh();
    return reports;
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }
}

/** Paths, sizes and mtimes of everything under `path`: changes when any file does. */
async function signatureOf(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isDirectory()) return `${path}:${info.size}:${info.mtimeMs}`;
  const parts: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const s = await stat(full).catch(() => null);
    if (s) parts.push(`${full}:${s.size}:${s.mtimeMs}`);
  }
  return parts.sort().join('\n');
}
