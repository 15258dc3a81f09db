/**
 * One chat model behind an OpenAI-compatible `/chat/completions` endpoint, through langchain's
 * `ChatOpenAICompletions` (the Chat Completions flavour of `ChatOpenAI`: DeepSeek, Qwen, Ollama,
 * vLLM and FastGPT speak that API, not OpenAI's newer Responses API, which `ChatOpenAI` switches
 * to for some model names). Retries and timeouts belong to the hub's resilience layer, so the
 * client's own are off.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
import { SourceError } from '../../resilience/errors.ts';
import type { LlmModelConfig } from './config.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  text: string;
}

export interface CompletionOptions {
  signal: AbortSignal;
  /** Stream the answer; `onDelta` receives each piece of text as it arrives. */
  stream: boolean;
  onDelta?: (text: string) => void;
}

export interface LlmClient {
  readonly model: string;
  complete(turns: ChatTurn[], opts: CompletionOptions): Promise<{ text: string }>;
}

/** Build a client for one configured model (the OpenAI client is loaded on first use). */
export async function createLlmClient(target: string, cfg: LlmModelConfig): Promise<LlmClient> {
  const [{ ChatOpenAICompletions }, messages] = await Promise.all([
    import('@langchain/openai'),
    import('@langchain/core/messages'),
  ]);
  const chat = new ChatOpenAICompletions({
    model: cfg.model,
    apiKey: cfg.apiKey || 'unused',
    configuration: { baseURL: cfg.baseURL },
    maxRetries: 0,
    ...(cfg.temperature !== undefined ? { temperature: cfg.temperature } : {}),
    ...(cfg.maxTokens !== undefined ? { maxTokens: cfg.maxTokens } : {}),
  });
  const toMessages = (turns: ChatTurn[]) =>
    turns.map((t) =>
      t.role === 'system'
        ? new messages.SystemMessage(t.text)
        : t.role === 'user'
          ? new messages.HumanMessage(t.text)
          : new messages.AIMessage(t.text),
    );
  return {
    model: cfg.model,
    async complete(turns, opts) {
      try {
        if (!opts.stream) {
          const res = await chat.invoke(toMessages(turns), { signal: opts.signal });
          return { text: res.text };
        }
        let text = '';
        const stream = await chat.stream(toMessages(turns), { signal: opts.signal });
        for await (const chunk of stream) {
          const piece = chunk.text;
          if (!piece) continue;
          text += piece;
          opts.onDelta?.(piece);
        }
        return { text };
      } catch (err) {
        if (opts.signal.aborted) throw err;
        throw translate(target, err);
      }
    },
  };
}

/** The OpenAI client's errors, as SourceErrors: status errors, connection problems, garbage. */
function translate(target: string, err: unknown): SourceError {
  const e = err as { status?: unknown; name?: string; message?: string };
  const message = (e.message ?? String(err)).split('\n')[0] ?? 'error';
  if (typeof e.status === 'number') {
    const transient = e.status >= 500 || e.status === 429 || e.status === 408;
    return new SourceError(target, 'http_status', `answered HTTP ${e.status}: ${message}`, {
      retryable: transient,
      countsForBreaker: transient,
      cause: err,
    });
  }
  if (e.name === 'APIConnectionTimeoutError')
    return new SourceError(target, 'timeout', message, { retryable: true, cause: err });
  if (e.name === 'APIConnectionError')
    return new SourceError(target, 'network', message, { retryable: true, cause: err });
  return new SourceError(target, 'bad_response', message, { countsForBreaker: true, cause: err });
}
