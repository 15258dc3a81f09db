/**
 * `dify`: workflow and chat apps, blocking and streaming, against a fake Dify on 127.0.0.1 that
 * speaks the documented wire format. Garbage from Dify is a step failure with a clear message,
 * never a crash; config mistakes are file:line:col errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourcesConfig } from '../../src/ai/sources-config.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { loadWorkflowFiles } from '../../src/workflows/index.ts';
import { aiKinds, runWith, sourceIssues, sourcesOf, testRuntime } from '../ai/helpers.ts';
import { FakeDify } from '../fakes/dify-server.ts';
import { tempDir } from './helpers.ts';

describe('dify', () => {
  let dify: FakeDify;
  let sources: SourcesConfig;

  beforeAll(async () => {
    dify = await new FakeDify(['wf-key', 'chat-key']).start();
    sources = sourcesOf(`
dify:
  baseURL: ${dify.baseURL}
  apps:
    guide:       { apiKey: wf-key, inputs: { query: "{{ message.text }}", lang: zh } }
    guide-sse:   { apiKey: wf-key, responseMode: streaming, inputs: { query: "{{ message.text }}" } }
    helper:      { mode: chat, apiKey: chat-key }
    helper-sse:  { mode: chat, apiKey: chat-key, responseMode: streaming, user: "vip-{{ message.sender.id }}" }
    wrong-key:   { apiKey: nope }
`);
  });
  afterAll(() => dify?.close());

  const step = (app: string) =>
    `steps:\n  - id: dify\n    dify: ${app}\n  - reply: "{{ steps.dify.answer }}"\n`;
  const ask = (app: string, text: string, opts: Parameters<typeof runWith>[4] = {}) => {
    const metaWrites: Record<string, unknown>[] = [];
    const store = {
      listMessages: async () => [],
      updateConversationMeta: async (_id: string, patch: Record<string, unknown>) =>
        void metaWrites.push(patch),
    };
    const { runtime } = testRuntime(sources, { store });
    return runWith(runtime, aiKinds(sources), step(app), text, opts).then((r) => ({ ...r, metaWrites }));
  };

  it('workflow app, blocking: POST /v1/workflows/run with the app key, inputs from templates, the answer from outputs', async () => {
    dify.behaviour = {};
    const r = await ask('guide', '怎么退货？');
    expect(r.status).toBe('ok');
    expect(r.replies[0]?.text).toBe('Dify says: 怎么退货？');
    const call = dify.calls.at(-1)!;
    expect(call).toMatchObject({
      path: '/v1/workflows/run',
      authorization: 'Bearer wf-key',
      body: { inputs: { query: '怎么退货？', lang: 'zh' }, response_mode: 'blocking', user: 'web:u1' },
    });
    expect(r.steps[0]?.output).toMatchObject({
      source: 'dify',
      app: 'guide',
      mode: 'workflow',
      outputs: { text: 'Dify says: 怎么退货？' },
    });
  });

  it('workflow app, streaming: text chunks and workflow_finished (total_steps as a string) are read', async () => {
    const r = await ask('guide-sse', 'refund?');
    expect(r.replies[0]?.text).toBe('Dify says: refund?');
    expect(dify.calls.at(-1)?.body.response_mode).toBe('streaming');
  });

  it('chat app: keeps the conversation id (meta dify:<app>), blocking and streaming', async () => {
    const first = await ask('helper', 'hello');
    expect(first.replies[0]?.text).toBe('Dify says: hello');
    expect(dify.calls.at(-1)?.body).toMatchObject({
      query: 'hello',
      conversation_id: '',
      response_mode: 'blocking',
      user: 'web:u1',
    });
    const id = (first.steps[0]!.output as { conversationId: string }).conversationId;
    expect(first.metaWrites).toEqual([{ 'dify:helper': id }]);

    const second = await ask('helper', 'again', { conversationMeta: { 'dify:helper': id } });
    expect(dify.calls.at(-1)?.body.conversation_id).toBe(id);
    expect(second.metaWrites).toEqual([]); // unchanged: nothing to write

    const streamed = await ask('helper-sse', 'stream me');
    expect(streamed.replies[0]?.text).toBe('Dify says: stream me');
    expect(dify.calls.at(-1)?.body).toMatchObject({ response_mode: 'streaming', user: 'vip-u1' });
    expect(streamed.metaWrites).toHaveLength(1);
  });

  it('a conversation Dify no longer knows (404) starts a new one', async () => {
    const r = await ask('helper', 'hi', { conversationMeta: { 'dify:helper': 'forgotten' } });
    expect(r.status).toBe('ok');
    const [failed, retried] = dify.calls.slice(-2);
    expect(failed?.body.conversation_id).toBe('forgotten');
    expect(retried?.body.conversation_id).toBe('');
    expect(r.metaWrites[0]?.['dify:helper']).toEqual(expect.any(String));
  });

  it('in a dry run the chat is asked but no conversation meta is written', async () => {
    const r = await ask('helper', 'dry', { dryRun: true });
    expect(r.replies[0]?.text).toBe('Dify says: dry');
    expect(r.metaWrites).toEqual([]);
  });

  it('garbage from Dify fails the step with a clear message (so a fallback can answer)', async () => {
    const cases: [typeof dify.behaviour, string, RegExp][] = [
      [
        { garbage: true },
        'guide',
        /^dify:guide: answered with non-JSON \(text\/html\): "<html><body>502 Bad Gateway<\/body><\/html>"$/,
      ],
      [{ wrongShape: true }, 'guide', /^dify:guide: unexpected workflow run: workflow_run_id: /],
      [
        { wrongShape: true },
        'guide-sse',
        /^dify:guide-sse: expected an event stream, got application\/json: /,
      ],
      [
        { status: 500 },
        'helper',
        /^dify:helper: answered HTTP 500: internal_server_error: The server is on fire\.$/,
      ],
      [{}, 'wrong-key', /^dify:wrong-key: answered HTTP 401: unauthorized: Access token is invalid$/],
    ];
    for (const [behaviour, app, message] of cases) {
      dify.behaviour = behaviour;
      const r = await ask(app, 'x');
      expect(r.status, app).toBe('failed');
      expect(r.steps[0]?.status).toBe('failed');
      expect(r.steps[0]?.error).toMatch(message);
    }
    dify.behaviour = {};
  });

  it('config: an enabled app without a key, and a workflow naming an unknown app, are positioned errors', async () => {
    expect(sourceIssues('dify:\n  apps:\n    a: { mode: chat }\n')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message tells ops to write ${ENV_VAR}
      'hub.yaml:3:8 dify app "a" needs an apiKey (write ${ENV_VAR}) while dify is enabled',
    ]);
    expect(sourceIssues('dify:\n  enabled: false\n  apps:\n    a: { mode: chat }\n')).toEqual([]);
    const t = tempDir({ 'w.yaml': 'steps:\n  - dify: { app: guid }\n' });
    try {
      const { issues } = await loadWorkflowFiles([t.path('w.yaml')], aiKinds(sources));
      expect(issues.map(formatConfigIssue)).toEqual([
        `${t.path('w.yaml')}:2:18 unknown dify app "guid" (declared under sources.dify.apps in hub.yaml: guide, guide-sse, helper, helper-sse, wrong-key)`,
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('dify switched off: the step fails at once without calling, so its fallback answers', async () => {
    const off = sourcesOf(
      `dify:\n  enabled: false\n  baseURL: ${dify.baseURL}\n  apps:\n    guide: { apiKey: "" }\n`,
    );
    const before = dify.calls.length;
    const r = await runWith(
      testRuntime(off).runtime,
      aiKinds(off),
      'steps:\n  - dify: guide\n    fallback: { reply: kb answer }\n',
      'x',
    );
    expect(r.replies[0]?.text).toBe('kb answer');
    expect(r.steps[0]).toMatchObject({
      status: 'fallback',
      error: 'dify:guide: switched off in hub.yaml (sources.dify.enabled: false)',
    });
    expect(dify.calls.length).toBe(before);
  });
});
