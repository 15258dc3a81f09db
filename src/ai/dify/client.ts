/**
 * Dify's app API, blocking and streaming, checked against what the docs promise. A reply that is
 * not what Dify documents (not JSON, a missing field, a stream that stops before its final event)
 * is a `bad_response` SourceError naming what was wrong; Dify's own error events and failed
 * workflow runs are `remote_error`s carrying Dify's message.
 *
 * @see https://docs.dify.ai/guides/application-publishing/developing-with-apis
 */
import { z } from 'zod';
import { SourceError } from '../../resilience/errors.ts';
import { requestEventStream, requestJson } from '../http-json.ts';
import { readSse } from '../sse.ts';

export interface DifyEndpoint {
  /** Breaker target and error prefix, `dify:<app>`. */
  target: string;
  baseURL: string;
  apiKey: string;
  responseMode: 'blocking' | 'streaming';
}

export interface WorkflowRunResult {
  runId: string;
  status: string;
  outputs: Record<string, unknown>;
  /** `text_chunk` texts of a streaming run, joined (empty for blocking runs). */
  streamedText: string;
}

export interface ChatResult {
  answer: string;
  conversationId: string;
  messageId: string | null;
}

const workflowData = z.object({
  status: z.string(),
  outputs: z.record(z.string(), z.unknown()).nullish(),
  error: z.string().nullish(),
});
const workflowBlocking = z.object({ workflow_run_id: z.string(), data: workflowData });
const chatBlocking = z.object({
  answer: z.string(),
  conversation_id: z.string(),
  message_id: z.string().nullish(),
  id: z.string().nullish(),
});
const streamEvent = z.looseObject({ event: z.string() });

/** Call a workflow app. @see https://docs.dify.ai/api-reference/workflow-execution/execute-workflow (POST /workflows/run) */
export async function runWorkflow(
  ep: DifyEndpoint,
  input: { inputs: Record<string, unknown>; user: string },
  signal: AbortSignal,
): Promise<WorkflowRunResult> {
  const req = {
    target: ep.target,
    url: `${trimSlash(ep.baseURL)}/workflows/run`,
    headers: { authorization: `Bearer ${ep.apiKey}` },
    body: { inputs: input.inputs, response_mode: ep.responseMode, user: input.user },
    signal,
  };
  if (ep.responseMode === 'blocking') {
    const { body } = await requestJson(req);
    const parsed = shape(ep.target, workflowBlocking, body, 'workflow run');
    return finished(ep.target, parsed.workflow_run_id, parsed.data, '');
  }
  const res = await requestEventStream(req);
  let text = '';
  let runId = '';
  for await (const ev of readSse(res.body!)) {
    const data = eventData(ep.target, ev.data);
    if (!data) continue;
    if (typeof data.workflow_run_id === 'string') runId = data.workflow_run_id;
    if (data.event === 'text_chunk') text += textOf(data.data);
    else if (data.event === 'error') throw remoteError(ep.target, data);
    else if (data.event === 'workflow_finished') {
      const fin = shape(ep.target, z.object({ data: workflowData }), data, 'workflow_finished event');
      return finished(ep.target, runId, fin.data, text);
    }
  }
  throw new SourceError(ep.target, 'bad_response', 'the event stream ended before workflow_finished', {
    countsForBreaker: true,
  });
}

/** Send a chat message. @see https://docs.dify.ai/api-reference/chat/send-chat-message (POST /chat-messages) */
export async function sendChatMessage(
  ep: DifyEndpoint,
  input: { query: string; inputs: Record<string, unknown>; user: string; conversationId?: string },
  signal: AbortSignal,
): Promise<ChatResult> {
  const req = {
    target: ep.target,
    url: `${trimSlash(ep.baseURL)}/chat-messages`,
    headers: { authorization: `Bearer ${ep.apiKey}` },
    body: {
      query: input.query,
      inputs: input.inputs,
      response_mode: ep.responseMode,
      user: input.user,
      conversation_id: input.conversationId ?? '',
    },
    signal,
  };
  if (ep.responseMode === 'blocking') {
    const { body } = await requestJson(req);
    const parsed = shape(ep.target, chatBlocking, body, 'chat message');
    return {
      answer: parsed.answer,
      conversationId: parsed.conversation_id,
      messageId: parsed.message_id ?? parsed.id ?? null,
    };
  }
  const res = await requestEventStream(req);
  let answer = '';
  let conversationId = '';
  let messageId: string | null = null;
  for await (const ev of readSse(res.body!)) {
    const data = eventData(ep.target, ev.data);
    if (!data) continue;
    if (typeof data.conversation_id === 'string' && data.conversation_id)
      conversationId = data.conversation_id;
    if (typeof data.message_id === 'string') messageId = data.message_id;
    switch (data.event) {
      case 'message':
      case 'agent_message':
        answer += typeof data.answer === 'string' ? data.answer : '';
        break;
      case 'message_replace':
        answer = typeof data.answer === 'string' ? data.answer : answer;
        break;
      case 'error':
        throw remoteError(ep.target, data);
      case 'message_end':
        if (!conversationId)
          throw new SourceError(ep.target, 'bad_response', 'message_end without a conversation_id', {
            countsForBreaker: true,
          });
        return { answer, conversationId, messageId };
    }
  }
  throw new SourceError(ep.target, 'bad_response', 'the event stream ended before message_end', {
    countsForBreaker: true,
  });
}

function finished(
  target: string,
  runId: string,
  data: z.output<typeof workflowData>,
  streamedText: string,
): WorkflowRunResult {
  if (data.status !== 'succeeded')
    throw new SourceError(
      target,
      'remote_error',
      `workflow run ${data.status}${data.error ? `: ${data.error}` : ''}`,
      {
        countsForBreaker: false,
      },
    );
  return { runId, status: data.status, outputs: data.outputs ?? {}, streamedText };
}

/** Parse one `data:` payload; `undefined` for keep-alives Dify sends without JSON. */
function eventData(target: string, raw: string): (Record<string, unknown> & { event: string }) | undefined {
  if (raw.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new SourceError(target, 'bad_response', `stream event is not JSON: ${raw.slice(0, 80)}`, {
      countsForBreaker: true,
    });
  }
  return shape(target, streamEvent, json, 'stream event') as Record<string, unknown> & { event: string };
}

function shape<S extends z.ZodType>(target: string, schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  throw new SourceError(
    target,
    'bad_response',
    `unexpected ${what}: ${where}: ${issue?.message ?? 'invalid'}`,
    {
      countsForBreaker: true,
    },
  );
}

function remoteError(target: string, data: Record<string, unknown>): SourceError {
  const code = typeof data.code === 'string' ? `${data.code}: ` : '';
  const message = typeof data.message === 'string' ? data.message : 'error event';
  return new SourceError(target, 'remote_error', `${code}${message}`, {
    countsForBreaker: Number(data.status) >= 500,
  });
}

function textOf(data: unknown): string {
  const text = (data as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
