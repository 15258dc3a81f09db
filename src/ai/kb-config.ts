/**
 * The `sources.kb` block of hub.yaml (schema only, so loading config stays light: the knowledge
 * base itself is in kb-source.ts).
 *
 * ```yaml
 * sources:
 *   kb:
 *     watchInterval: 2s
 *     ingest:
 *       - { path: kb, collection: after-sales }    # relative to the config directory
 * ```
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../config/duration.ts';
import { callPolicyFields } from '../resilience/config.ts';
import { kbEmbeddingsConfigSchema } from './kb/config.ts';

// The embeddings block has its own `timeout` (with a default); the other guard settings are added.
const { timeout: _timeout, ...embeddingPolicyFields } = callPolicyFields;

export const kbSourceSchema = z
  .strictObject({
    /** How often the hub looks for another process's ingest and for changed files to ingest. */
    watchInterval: durationSchema.default(2000),
    /** Collection of `kb ingest` / `kb search` when none is named. */
    defaultCollection: z.string().min(1).default('default'),
    /** Directories (or files) ingested at start and re-ingested when they change. */
    ingest: z
      .array(z.strictObject({ path: z.string().min(1), collection: z.string().min(1).optional() }))
      .default([]),
    embeddings: kbEmbeddingsConfigSchema.extend(embeddingPolicyFields).optional(),
  })
  .prefault({});
export type KbSourceConfig = z.output<typeof kbSourceSchema>;

/** The `ingest` entries with absolute paths and collections decided. */
export function ingestTargets(
  config: KbSourceConfig,
  configDir: string,
): { path: string; collection: string }[] {
  return config.ingest.map((e) => ({
    path: resolve(configDir, e.path),
    collection: e.collection ?? config.defaultCollection,
  }));
}
