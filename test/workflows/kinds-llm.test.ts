/**
 * `llm`: a prompt file rendered with the retrieved passages (with their source ids), the
 * conversation's recent messages within a budget, the question last; streamed pieces go to
 * channels that can show them; an empty or garbled answer fails the step so its fallback answers.
 * Against a fake OpenAI-compatible server on 127.0.0.1, through langchain.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnowledgeBase } from '../../src/ai/kb/index.ts';
import type { Delta } from '../../src/ai/runtime.ts';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import type { StoredMessage } from '../../src/store/types.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, memoryKb, runWith, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { FakeOpenAI } from '../fakes/openai-server.ts';
import { tempDir } from './helpers.ts';

const PROMPT = `Answer as the shop assistant of {{ conversation.channel }}.
{% for p in passages %}[{{ p.id }}] {{ p.text }}
{% endfor %}Earlier messages: {{ history | size }}`;

function stored(seq: number, direction: 'in' | 'out', text: string, id = `m${seq}`): StoredMessage {
  return {
    seq,
    id,
    conversationId: 'web:web:c1',
    direction,
    kind: 'text',
    text,
    payload: {} as StoredMessage['payload'],
    inReplyTo: null,
    author: direction === 'in' ? 'visitor' : 'bot',
    traceId: 't',
    createdAt: '2024-01-01T00:00:00Z',
  };
}

describe('llm', () => {
  let openai: FakeOpenAI;
  let kb: KnowledgeBase;
  let sources: SourcesConfig;
  let dir: ReturnType<typeof tempDir>;
  const history = [
    stored(1, 'in', '你好'),
    stored(2, 'out', '您好！请问有什么可以帮您？'),
    stored(3, 'in', 'I bought a kettle last week'),
    stored(4, 'out', 'Thanks, noted.'),
    stored(5, 'in', '我想退货', 'm_1'), // the message being answered: not history
  ];
  const store = {
    listMessages: async (_c: string, o: { afterSeq?: number } = {}) =>
      history.filter((m) => m.seq > (o.afterSeq ?? 0)),
    updateConversationMeta: async () => {},
  };

  beforeAll(async () => {
    openai = await new FakeOpenAI().start();
    kb = await memoryKb();
    dir = tempDir();
    mkdirSync(join(dir.dir, 'prompts'));
    writeFileSync(join(dir.dir, 'prompts', 'answer.md'), PROMPT);
    sources = sourcesOf(`
llm:
  history: 3
  models:
    default: { baseURL: "${openai.baseURL}", apiKey: sk-test, model: deepseek-chat, temperature: 0.2 }
`);
  });
  afterAll(async () => {
    await openai?.close();
    dir?.cleanup();
  });

  const WF = `steps:
  - id: kb
    kb: { collection: after-sales, top: 2 }
  - id: answer
    llm: { prompt: answer.md, context: [kb, missing] }
    fallback: { reply: "fallback: {{ steps.kb.top.answer | truncate: 20 }}" }
`;
  const run = (opts: { deltas?: Delta[]; channel?: string } = {}, yaml = WF) => {
    const deltas = opts.deltas;
    const { runtime } = testRuntime(sources, {
      kb,
      store,
      configDir: dir.dir,
      ...(deltas
        ? {
            deltas: {
              supports: (ch: string) => ch === 'web',
              publish: (_c: string, d: Delta) => void deltas.push(d),
            },
          }
        : {}),
    });
    return runWith(runtime, aiKinds(sources, dir.dir), yaml, '我想退货');
  };

  it('sends the rendered prompt with cited passages, recent history and the question; replies with the answer', async () => {
    openai.behaviour = {};
    openai.reply = '签收后 7 天内可申请退货。';
    const r = await run();
    expect(r.status).toBe('ok');
    expect(r.replies.map((x) => x.text)).toEqual(['签收后 7 天内可申请退货。']);
    const call = openai.chatCalls.at(-1)!;
    expect(call.body.model).toBe('deepseek-chat');
    expect(call.body.stream).toBeFalsy();
    const [system, ...rest] = call.body.messages;
    expect(system?.role).toBe('system');
    expect(system?.content).toMatch(
      /^Answer as the shop assistant of web\.\n\[kb:return-request\] 如何申请退货？\n签收后 7 天内/,
    );
    expect(system?.content).toMatch(/Earlier messages: 3$/);
    // history: 3 → the last three before the question, oldest first; the question last.
    expect(rest.map((m) => [m.role, m.content])).toEqual([
      ['assistant', '您好！请问有什么可以帮您？'],
      ['user', 'I bought a kettle last week'],
      ['assistant', 'Thanks, noted.'],
      ['user', '我想退货'],
    ]);
    expect(r.steps[1]?.output).toMatchObject({
      text: '签收后 7 天内可申请退货。',
      passages: ['kb:return-request', expect.stringMatching(/^kb:/)],
      history: 3,
      streamed: false,
    });
  });

  it('streams pieces to a channel that can show them; they add up to the one reply', async () => {
    openai.reply = 'You can return it within 7 days of delivery.';
    const deltas: Delta[] = [];
    const r = await run({ deltas });
    expect(openai.chatCalls.at(-1)?.body.stream).toBe(true);
    expect(r.replies.map((x) => x.text)).toEqual(['You can return it within 7 days of delivery.']);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    expect(deltas.at(-1)).toMatchObject({ done: true, text: '' });
    expect(deltas.map((d) => d.text).join('')).toBe('You can return it within 7 days of delivery.');
    expect(new Set(deltas.map((d) => d.streamId))).toEqual(new Set(['m_1:answer']));
    expect(r.steps[1]?.output).toMatchObject({ streamed: true });
  });

  it('an empty answer, garbage, or a failing endpoint fails the step: the fallback answers', async () => {
    const cases: [FakeOpenAI['behaviour'], RegExp, number][] = [
      [{ empty: true }, /^llm:default: the model returned no text$/, 1],
      [{ garbage: true }, /^llm:default: /, 1],
      [{ status: 500 }, /^llm:default: answered HTTP 500: /, 2], // retried once: not streamed, idempotent
    ];
    for (const [behaviour, error, calls] of cases) {
      openai.behaviour = behaviour;
      const before = openai.chatCalls.length;
      const r = await run();
      expect(r.status).toBe('ok');
      expect(r.steps[1]).toMatchObject({ status: 'fallback' });
      expect(r.steps[1]?.error).toMatch(error);
      expect(r.replies.map((x) => x.text)).toEqual([expect.stringMatching(/^fallback: 签收后 7 天内/)]);
      expect(openai.chatCalls.length - before).toBe(calls);
    }
    openai.behaviour = {};
  });

  it('llm switched off: fails at once, nothing is called, the fallback answers', async () => {
    const off = sourcesOf(
      `llm:\n  enabled: false\n  models:\n    default: { baseURL: "${openai.baseURL}", model: m }\n`,
    );
    const before = openai.chatCalls.length;
    const { runtime } = testRuntime(off, { kb });
    const r = await runWith(runtime, aiKinds(off), WF.replace('prompt: answer.md, ', ''), '我想退货');
    expect(r.steps[1]).toMatchObject({
      status: 'fallback',
      error: 'llm:default: switched off in hub.yaml (sources.llm.enabled: false)',
    });
    expect(openai.chatCalls.length).toBe(before);
  });

  it('load errors: an unknown model and a missing prompt file, at their positions', async () => {
    const t = tempDir({ 'w.yaml': 'steps:\n  - llm: { model: gpt-9, prompt: nope.md }\n' });
    try {
      const { issues } = await loadWorkflowFiles([t.path('w.yaml')], aiKinds(sources, dir.dir));
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('w.yaml')}:2:19 unknown llm model "gpt-9" (declared under sources.llm.models in hub.yaml: default)`,
        `${t.path('w.yaml')}:2:34 prompt file not found: ${join(dir.dir, 'prompts', 'nope.md')}`,
      ]);
    } finally {
      t.cleanup();
    }
  });
});
