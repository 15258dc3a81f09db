/**
 * The `sources.llm` block of hub.yaml: OpenAI-compatible chat endpoints by name. Anything that
 * speaks `/chat/completions` works: OpenAI, DeepSeek, Qwen (DashScope compatible mode), Ollama,
 * vLLM, FastGPT, a gateway.
 *
 * ```yaml
 * sources:
 *   llm:
 *     enabled: true
 *     history: 6                  # messages of the conversation given to the model
 *     historyTokens: 1500         # … at most this many (estimated) tokens of them
 *     models:
 *       default:
 *         baseURL: https://api.deepseek.com/v1
 *         apiKey: ${LLM_API_KEY}
 *         model: deepseek-chat
 *         temperature: 0.3
 *         timeout: 20s
 * ```
 */
import { z } from 'zod';
import { callPolicyFields } from '../../resilience/config.ts';
import { issueParams } from '../../workflows/schema-helpers.ts';
import { sourceNameSchema } from '../dify/config.ts';

const llmModelSchema = z.strictObject({
  /** The API root, up to and including `/v1` (`http://127.0.0.1:11434/v1` for Ollama). */
  baseURL: z.url(),
  /** Bearer key as `${ENV}`; local servers usually accept anything. */
  apiKey: z.string().default(''),
  /** The model name as the endpoint knows it. */
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  /** Longest answer, in tokens. */
  maxTokens: z.number().int().positive().optional(),
  ...callPolicyFields,
});
export type LlmModelConfig = z.output<typeof llmModelSchema>;

export const llmSourceSchema = z
  .strictObject({
    /** Off: `llm` steps fail at once (their `fallback` answers) without calling anything. */
    enabled: z.boolean().default(true),
    /** Directory of prompt files, relative to the config directory. */
    promptsDir: z.string().min(1).default('prompts'),
    /** Default number of earlier messages of the conversation the model sees. */
    history: z.number().int().min(0).max(100).default(6),
    /** Default token budget for those messages (oldest dropped first). */
    historyTokens: z.number().int().min(0).default(1500),
    models: z.record(sourceNameSchema, llmModelSchema).default({}),
    ...callPolicyFields,
  })
  .superRefine((v, ctx) => {
    if (v.enabled && Object.keys(v.models).length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['models'],
        message: 'llm is enabled but no model is configured under sources.llm.models',
        params: issueParams(),
      });
  });
export type LlmSourceConfig = z.output<typeof llmSourceSchema>;
