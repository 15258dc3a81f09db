/**
 * Embeddings for the optional vector retriever, through langchain's OpenAI client pointed at any
 * OpenAI-compatible endpoint. The knowledge base depends only on `KbEmbedder`, so tests use a
 * deterministic fake and nothing here is loaded unless embeddings are configured.
 */
import type { KbEmbeddingsConfig } from './config.ts';
import { centroid } from './vector-index.ts';

/** What the knowledge base needs from an embedding model. */
export interface KbEmbedder {
  /** Stored next to each vector: a different model means the vectors must be recomputed. */
  readonly model: string;
  /** Paraphrases per FAQ entry that go into its vector (default 16). */
  readonly maxSimilar?: number;
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

/** An embedder on an OpenAI-compatible `/embeddings` endpoint (see config.ts). */
export async function createOpenAIEmbedder(config: KbEmbeddingsConfig): Promise<KbEmbedder> {
  // Imported lazily: the OpenAI client is sizeable and most hubs run without embeddings.
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  const client = new OpenAIEmbeddings({
    model: config.model,
    apiKey: config.apiKey ?? 'unused',
    dimensions: config.dimensions,
    batchSize: config.batchSize,
    timeout: config.timeout,
    // Retries belong to the hub's resilience layer (src/resilience); langchain's own would stack under it.
    maxRetries: 0,
    configuration: { baseURL: config.baseURL },
  });
  return {
    model: config.dimensions ? `${config.model}@${config.dimensions}` : config.model,
    maxSimilar: config.maxSimilar,
    embedDocuments: (texts) => client.embedDocuments(texts),
    embedQuery: (text) => client.embedQuery(text),
  };
}

/** The texts that make up an entry's vector: the question with its answer, then paraphrases. */
export function embeddingTexts(
  entry: { question: string; answer: string; similar: readonly string[] },
  maxSimilar: number,
): string[] {
  const head = `${entry.question}\n${entry.answer}`.slice(0, 2000);
  return [head, ...entry.similar.slice(0, maxSimilar)];
}

/**
 * Embed many entries with as few requests as the embedder's batching allows; each entry's vector
 * is the normalised mean of its texts' vectors.
 */
export async function embedEntries(
  embedder: KbEmbedder,
  entries: readonly { question: string; answer: string; similar: readonly string[] }[],
): Promise<number[][]> {
  const maxSimilar = embedder.maxSimilar ?? 16;
  const groups = entries.map((e) => embeddingTexts(e, maxSimilar));
  const vectors = groups.length > 0 ? await embedder.embedDocuments(groups.flat()) : [];
  let at = 0;
  return groups.map((g) => {
    const part = vectors.slice(at, at + g.length);
    at += g.length;
    return centroid(part);
  });
}
