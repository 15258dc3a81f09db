/**
 * Coze's v3 chat API, streaming only: the answer is read from the SSE events Coze documents and
 * checked as it comes. A stream that stops before `conversation.chat.completed` (or says `done`
 * first) is a `bad_response`; `conversation.chat.failed`, `error` and a chat that needs a tool
 * output the hub cannot give are `remote_error`s carrying Coze's own code and message.
 *
 * Streaming rather than create-and-poll: the SDK's poll loop has no deadline, and the stream lets
 * the web chat show the answer while the bot writes it.
 *
 * @see https://www.coze.cn/docs/developer_guides/chat_v3
 */
import { z } from 'zod';
import { SourceError } from '../../resilience/errors.ts';
import { requestEventStream } from '../http-json.ts';
import { readSse } from '../sse.ts';

export interface CozeEndpoint {
  /** Breaker target and error prefix, `coze:<bot>`. */
  target: string;
  baseURL: string;
  token: string;
  botId: string;
}

export interface CozeChatInput {
  query: string;
  userId: string;
  /** Coze's conversation from an earlier message of this customer; absent: Coze starts one. */
  conversationId?: string;
  /** Called with each answer piece as it arrives. */
  onDelta?: (text: string) => void;
}

export interface CozeUsage {
  tokenCount?: number;
  inputCount?: number;
  outputCount?: number;
}

export interface CozeChatResult {
  text: string;
  conversationId: string;
  chatId: string;
  usage?: CozeUsage;
}

// Loose: Coze adds fields freely; only what the hub reads is checked.
const messageEvent = z.looseObject({
  type: z.string().optional(),
  content: z.string().optional(),
  conversation_id: z.string().optional(),
  chat_id: z.string().optional(),
});
const chatEvent = z.looseObject({
  id: z.string().optional(),
  conversation_id: z.string().optional(),
  status: z.string().optional(),
  last_error: z.looseObject({ code: z.number().optional(), msg: z.string().optional() }).nullish(),
  usage: z
    .looseObject({
      token_count: z.number().optional(),
      input_count: z.number().optional(),
      output_count: z.number().optional(),
    })
    .nullish(),
});
const errorEvent = z.looseObject({ code: z.number().optional(), msg: z.string().optional() });

/**
 * Ask a bot one question, streaming.
 * @see https://www.coze.cn/docs/developer_guides/chat_v3 (POST /v3/chat, stream: true)
 */
export async function streamChat(
  ep: CozeEndpoint,
  input: CozeChatInput,
  signal: AbortSignal,
): Promise<CozeChatResult> {
  const query = input.conversationId ? `?conversation_id=${encodeURIComponent(input.conversationId)}` : '';
  const res = await requestEventStream({
    target: ep.target,
    url: `${ep.baseURL.replace(/\/+$/, '')}/v3/chat${query}`,
    headers: { authorization: `Bearer ${ep.token}` },
    body: {
      bot_id: ep.botId,
      user_id: input.userId,
      stream: true,
      // Coze keeps the turns, so the next message of this conversation has its context.
      auto_save_history: true,
      additional_messages: [{ role: 'user', content: input.query, content_type: 'text' }],
    },
    signal,
  });
  let streamed = '';
  let completed: string | undefined;
  let conversationId = input.conversationId ?? '';
  let chatId = '';
  for await (const ev of readSse(res.body!)) {
    if (ev.event === 'done') break; // `data:"[DONE]"`; early only if chat.completed never came
    const data = eventData(ep.target, ev.event, ev.data);
    if (typeof data.conversation_id === 'string' && data.conversation_id)
      conversationId = data.conversation_id;
    switch (ev.event) {
      case 'conversation.message.delta': {
        const m = shape(ep.target, messageEvent, data, ev.event);
        if (m.type === 'answer' && m.content) {
          streamed += m.content;
          input.onDelta?.(m.content);
        }
        break;
      }
      case 'conversation.message.completed': {
        // `verbose` / `follow_up` messages follow the answer; only the answer is the reply.
        const m = shape(ep.target, messageEvent, data, ev.event);
        if (m.type === 'answer' && typeof m.content === 'string') completed = m.content;
        break;
      }
      case 'conversation.chat.created':
      case 'conversation.chat.in_progress':
        chatId = shape(ep.target, chatEvent, data, ev.event).id ?? chatId;
        break;
      case 'conversation.chat.completed': {
        const c = shape(ep.target, chatEvent, data, ev.event);
        if (!conversationId)
          throw new SourceError(ep.target, 'bad_response', 'chat.completed without a conversation_id', {
            countsForBreaker: true,
          });
        return {
          text: completed ?? streamed,
          conversationId,
          chatId: c.id ?? chatId,
          ...(c.usage ? { usage: usageOf(c.usage) } : {}),
        };
      }
      case 'conversation.chat.failed': {
        const e = shape(ep.target, chatEvent, data, ev.event).last_error;
        throw remoteError(ep.target, 'chat failed', e?.code, e?.msg);
      }
      case 'conversation.chat.requires_action':
        // The bot waits for a local plugin's output, which the hub has no way to give.
        throw new SourceError(ep.target, 'remote_error', 'the bot requires a tool output (not supported)', {
          countsForBreaker: false,
        });
      case 'error': {
        const e = shape(ep.target, errorEvent, data, ev.event);
        throw remoteError(ep.target, 'error event', e.code, e.msg);
      }
      // Other events (audio deltas, events added later) carry nothing the hub uses.
    }
  }
  throw new SourceError(
    ep.target,
    'bad_response',
    'the event stream ended before conversation.chat.completed',
    { countsForBreaker: true },
  );
}

function eventData(target: string, event: string, raw: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new SourceError(target, 'bad_response', `${event} data is not JSON: ${raw.slice(0, 80)}`, {
      countsForBreaker: true,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new SourceError(target, 'bad_response', `${event} data is not an object`, {
      countsForBreaker: true,
    });
  return json as Record<string, unknown>;
}

function shape<S extends z.ZodType>(target: string, schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'data';
  throw new SourceError(target, 'bad_response', `unexpected ${what}: ${where}: ${issue?.message}`, {
    countsForBreaker: true,
  });
}

/** Coze's failure, counted against its breaker: it is Coze's trouble, not the request's. */
function remoteError(target: string, what: string, code?: number, msg?: string): SourceError {
  const detail = [code !== undefined ? String(code) : '', msg ?? ''].filter(Boolean).join(': ');
  return new SourceError(target, 'remote_error', `${what}${detail ? `: ${detail}` : ''}`, {
    countsForBreaker: true,
  });
}

function usageOf(u: { token_count?: number; input_count?: number; output_count?: number }): CozeUsage {
  return {
    ...(u.token_count !== undefined ? { tokenCount: u.token_count } : {}),
    ...(u.input_count !== undefined ? { inputCount: u.input_count } : {}),
    ...(u.output_count !== undefined ? { outputCount: u.output_count } : {}),
  };
}
