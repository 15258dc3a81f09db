/**
 * The `sources.kb` block of hub.yaml. Everything has a default, so `kb: {}` (or no block) is a
 * working, fully local knowledge base; `embeddings` switches on vector search.
 *
 * ```yaml
 * sources:
 *   kb:
 *     watchInterval: 2s
 *     embeddings:                        # optional; off when absent
 *       baseURL: http://127.0.0.1:11434/v1
 *       model: bge-m3
 *       apiKey: ${KB_EMBEDDINGS_API_KEY}
 * ```
 */
import { z } from 'zod';
import { durationSchema } from '../../config/duration.ts';

export const kbEmbeddingsConfigSchema = z.object({
  /** OpenAI-compatible endpoint (OpenAI, Azure-compatible gateways, Ollama, vLLM, LocalAI, …). */
  baseURL: z.url(),
  /** Embedding model name as the endpoint knows it. */
  model: z.string().min(1),
  /** Bearer key, as `${ENV}` in config; local servers usually accept any value. */
  apiKey: z.string().optional(),
  /** Output dimensions, for models that can shorten their vectors (text-embedding-3-*). */
  dimensions: z.number().int().positive().optional(),
  /** Texts per request. */
  batchSize: z.number().int().min(1).max(2048).default(64),
  /** Per-request timeout. */
  timeout: durationSchema.default(10_000),
  /** Paraphrases embedded per FAQ entry (their mean becomes the entry's vector). */
  maxSimilar: z.number().int().min(0).default(16),
});
export type KbEmbeddingsConfig = z.infer<typeof kbEmbeddingsConfigSchema>;

export const kbConfigSchema = z
  .object({
    /** How often a running hub checks the store for another process's ingest. */
    watchInterval: durationSchema.default(2000),
    /** Collection used when an ingest or a search names none. */
    defaultCollection: z.string().min(1).default('default'),
    embeddings: kbEmbeddingsConfigSchema.optional(),
  })
  .prefault({});
export type KbConfig = z.infer<typeof kbConfigSchema>;
