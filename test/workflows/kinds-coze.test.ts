/**
 * `coze`: a Coze bot behind the agent step, against a fake Coze v3 chat API on 127.0.0.1 that
 * replays the official SSE sample. Deltas stream to the web chat, the conversation id is kept per
 * customer, and a failed, cut or hung chat fails the step so its fallback answers.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamChat } from '../../src/ai/coze/client.ts';
import type { Delta } from '../../src/ai/runtime.ts';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { readSse } from '../../src/ai/sse.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, runWith, sourceIssues, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { FakeCoze, OFFICIAL, OFFICIAL_STREAM } from '../fakes/coze-server.ts';
import { tempDir } from './helpers.ts';

// The official vectors live beside the repo (../shared), as on every machine and in CI.
const VECTORS = fileURLToPath(new URL('../../../shared/protocols/test-vectors.json', import.meta.url));

/** The text as a body would arrive, in small chunks (a multi-byte character split across two). */
async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  const all = new TextEncoder().encode(text);
  for (let i = 0; i < all.length; i += 7) yield all.slice(i, i + 7);
}

describe('coze', () => {
  let coze: FakeCoze;
  let sources: SourcesConfig;

  beforeAll(async () => {
    coze = await new FakeCoze('pat-1').start();
    sources = sourcesOf(`
coze:
  baseURL: ${coze.baseURL}
  token: pat-1
  timeout: 300ms
  bots:
    helper: { botId: "7379462189365198898" }
    other:  { botId: "42", token: wrong }
`);
  });
  afterAll(() => coze?.close());

  const WF = `steps:
  - id: agent
    coze: { bot: helper }
    fallback: { reply: "fallback answer" }
`;
  const ask = (
    text: string,
    opts: { meta?: Record<string, unknown>; deltas?: Delta[]; yaml?: string } = {},
  ) => {
    const metaWrites: Record<string, unknown>[] = [];
    const store = {
      listMessages: async () => [],
      updateConversationMeta: async (_id: string, patch: Record<string, unknown>) =>
        void metaWrites.push(patch),
    };
    const deltas = opts.deltas;
    const { runtime } = testRuntime(sources, {
      store,
      ...(deltas
        ? { deltas: { supports: () => true, publish: (_c: string, d: Delta) => void deltas.push(d) } }
        : {}),
    });
    return runWith(runtime, aiKinds(sources), opts.yaml ?? WF, text, {
      ...(opts.meta ? { conversationMeta: opts.meta } : {}),
    }).then((r) => ({ ...r, metaWrites }));
  };

  it('parses the official SSE sample: events in the documented order, delta texts, completed answer', async () => {
    const events: string[] = [];
    for await (const ev of readSse(bytes(OFFICIAL_STREAM))) events.push(ev.event);
    const vector = (
      JSON.parse(readFileSync(VECTORS, 'utf8')) as {
        coze: { chat_v3_stream_official: Record<string, unknown> };
      }
    ).coze.chat_v3_stream_official;
    expect(events).toEqual((vector.events_in_order as string[]).map((e) => e.split(' ')[0]));
    expect(OFFICIAL.deltaTexts).toEqual(vector.delta_texts);
    expect(OFFICIAL.completedAnswer).toBe(vector.completed_answer);
    expect(events.at(-1)).toBe('done');

    coze.behaviour = { official: true };
    const pieces: string[] = [];
    const ep = { target: 'coze:t', baseURL: coze.baseURL, token: 'pat-1', botId: 'b1' };
    const r = await streamChat(
      ep,
      { query: '2024年10月1日是星期几', userId: '123456789', onDelta: (p) => void pieces.push(p) },
      AbortSignal.timeout(2000),
    );
    expect(pieces).toEqual(['2', '0', '星期三', '。']);
    expect(r).toEqual({
      text: '2024 年 10 月 1 日是星期三。', // the completed answer message wins over the joined pieces
      conversationId: '7381473525342978089',
      chatId: '7382159487131697202',
      usage: { tokenCount: 633, inputCount: 614, outputCount: 19 },
    });
    expect(coze.calls.at(-1)).toMatchObject({
      authorization: 'Bearer pat-1',
      conversationId: null,
      body: {
        bot_id: 'b1',
        user_id: '123456789',
        stream: true,
        auto_save_history: true,
        additional_messages: [{ role: 'user', content: '2024年10月1日是星期几', content_type: 'text' }],
      },
    });
  });

  it('assembles the answer from deltas, streams them to the web chat, and replies once', async () => {
    coze.behaviour = {};
    const deltas: Delta[] = [];
    const r = await ask('how do I return a kettle?', { deltas });
    expect(r.status).toBe('ok');
    expect(r.replies.map((x) => x.text)).toEqual(['Coze says: how do I return a kettle?']);
    expect(deltas.at(-1)).toMatchObject({ done: true, text: '' });
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join('')).toBe('Coze says: how do I return a kettle?');
    expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set(['m_1:agent']));
    expect(r.steps[0]?.output).toMatchObject({ source: 'coze', bot: 'helper', streamed: true });
    expect(coze.calls.at(-1)?.body).toMatchObject({ bot_id: '7379462189365198898', user_id: 'web:u1' });
  });

  it('keeps the conversation id (meta coze:<bot>) across two messages', async () => {
    coze.behaviour = {};
    const first = await ask('hello');
    const id = (first.steps[0]!.output as { conversationId: string }).conversationId;
    expect(coze.conversations.has(id)).toBe(true);
    expect(first.metaWrites).toEqual([{ 'coze:helper': id }]);
    const second = await ask('again', { meta: { 'coze:helper': id } });
    expect(coze.calls.at(-1)?.conversationId).toBe(id);
    expect((second.steps[0]!.output as { conversationId: string }).conversationId).toBe(id);
    expect(second.metaWrites).toEqual([]); // unchanged: nothing to write
  });

  it('a failed chat, a cut stream or a bad token fails the step with a clear message: the fallback answers', async () => {
    const cases: [typeof coze.behaviour, string, RegExp][] = [
      [{ failed: true }, 'helper', /^coze:helper: chat failed: 5000: event interval error$/],
      [
        { truncate: true },
        'helper',
        /^coze:helper: the event stream ended before conversation.chat.completed$/,
      ],
      [
        {},
        'other',
        /^coze:other: expected an event stream, got application\/json: .*authentication is invalid/,
      ],
    ];
    for (const [behaviour, bot, message] of cases) {
      coze.behaviour = behaviour;
      const r = await ask('x', { yaml: WF.replace('bot: helper', `bot: ${bot}`) });
      expect(r.steps[0], bot).toMatchObject({ status: 'fallback' });
      expect(r.steps[0]?.error).toMatch(message);
      expect(r.replies.map((x) => x.text)).toEqual(['fallback answer']);
    }
  });

  it('a hung server is cut at the timeout and the fallback answers', async () => {
    coze.behaviour = { hang: true };
    const started = performance.now();
    const r = await ask('x');
    expect(performance.now() - started).toBeLessThan(1500);
    expect(r.steps[0]).toMatchObject({ status: 'fallback', error: 'coze:helper: no answer within 300ms' });
    expect(r.replies.map((x) => x.text)).toEqual(['fallback answer']);
    await new Promise((res) => setTimeout(res, 50));
    expect(coze.calls.at(-1)?.aborted).toBe(true);
    coze.behaviour = {};
  });

  it('config: a bot without an id or token, and a workflow naming an unknown bot, are positioned errors', async () => {
    expect(sourceIssues('coze:\n  bots:\n    a: { token: t }\n    b: { botId: "1" }\n')).toEqual([
      'hub.yaml:3:8 coze bot "a" needs a botId while coze is enabled',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message tells ops to write ${ENV_VAR}
      'hub.yaml:4:8 coze bot "b" needs a token (write ${ENV_VAR}) while coze is enabled',
    ]);
    expect(sourceIssues('coze:\n  enabled: false\n  bots:\n    a: {}\n')).toEqual([]);
    const t = tempDir({ 'w.yaml': 'steps:\n  - coze: { bot: helpr }\n' });
    try {
      const { issues } = await loadWorkflowFiles([t.path('w.yaml')], aiKinds(sources));
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('w.yaml')}:2:18 unknown coze bot "helpr" (declared under sources.coze.bots in hub.yaml: helper, other)`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});
