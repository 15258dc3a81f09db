/**
 * Hand-off end to end on the web channel: a keyword queues the conversation, the bot goes silent,
 * an agent claims it and replies through the outbound queue, releases it, and the bot is back.
 * Plus low-confidence streaks and the availability notices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type ConsoleClient, conversationPath, createAgent } from '../helpers/console.ts';
import { eventually, FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';
import { openSse } from '../helpers/sse.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const UNSURE_WORKFLOW = `name: unsure
priority: 10
match:
  any: [{ keywords: [maybe] }]
steps:
  - set: { confidence: 0.2 }
  - reply: "not sure: {{ message.text }}"
`;

const HUB_YAML = `channels:
  - { id: web, type: web }
${FAST_QUEUE_YAML}
handoff:
  keywords: [转人工, human]
  keywordQueue: vip
  lowConfidence: { runs: 2, threshold: 0.5, queue: unsure }
  messages:
    noAgentOnline: "NOBODY-ONLINE"
`;

describe('hand-off on the web channel', () => {
  let t: TestHub;
  let alice: ConsoleClient;
  let bob: ConsoleClient;
  beforeAll(async () => {
    t = await startTestHub({
      hubYaml: HUB_YAML,
      workflows: { 'echo.yaml': ECHO_WORKFLOW, 'unsure.yaml': UNSURE_WORKFLOW },
      database: 'pg',
      env: { ADMIN_TOKEN },
    });
    alice = await createAgent(t, 'alice');
    bob = await createAgent(t, 'bob');
  });
  afterAll(async () => t?.stop());

  const session = async () => {
    const res = await t.post('/v1/chat/create', { visitor: { name: 'Vera' } });
    return { sessionId: res.body.session_id as string, conversationId: `web:web:${res.body.session_id}` };
  };
  const send = (sessionId: string, text: string, wait = true) =>
    t.post('/v1/chat/send', { session_id: sessionId, text, wait });

  it('keyword → queued (with notice), silent bot, claim, agent reply, release → bot again', async () => {
    const { sessionId, conversationId } = await session();
    expect((await send(sessionId, 'hi')).body.replies[0].text).toBe('echo: hi');

    const asked = await send(sessionId, '我要转人工');
    expect(asked.status).toBe(200);
    expect(asked.body.replies.map((r: { role: string; text: string }) => [r.role, r.text])).toEqual([
      ['bot', expect.stringContaining('转接人工')],
      ['system', 'NOBODY-ONLINE'],
    ]);
    const queued = await t.hub.store.getConversation(conversationId);
    expect(queued).toMatchObject({ state: 'queued', handoffQueue: 'vip' });
    const [run] = await t.hub.store.listRuns({ inboundMessageId: asked.body.message_id });
    expect(run).toMatchObject({
      status: 'handoff',
      workflow: null,
      steps: [{ id: 'handoff-keyword', output: { keyword: '转人工', queue: 'vip' } }],
    });

    // The queue holds it: the bot says nothing, the message is still recorded.
    const sse = await openSse(`${t.url}/v1/chat/events?session_id=${sessionId}`);
    try {
      const quiet = await send(sessionId, 'hello? anyone?');
      expect(quiet.body.replies).toEqual([]);
      expect((await t.hub.store.getMessage(quiet.body.message_id))?.text).toBe('hello? anyone?');

      const listed = await alice.call('GET', '/console/api/conversations?view=queued');
      expect(listed.body.conversations.map((c: { id: string }) => c.id)).toContain(conversationId);
      expect(listed.body.counts.queued).toBeGreaterThanOrEqual(1);

      const claims = await Promise.all([
        alice.call('POST', conversationPath(conversationId, 'claim')),
        bob.call('POST', conversationPath(conversationId, 'claim')),
      ]);
      const statuses = claims.map((c) => c.status).sort();
      expect(statuses).toEqual([200, 409]);
      const winner = claims[0]!.status === 200 ? alice : bob;
      const loser = winner === alice ? bob : alice;
      const winnerId = winner === alice ? 'alice' : 'bob';
      const [joined] = await sse.waitFor(1, (e) => e.event === 'agent_joined');
      expect(joined!.data).toEqual({ agent: winnerId, name: `Agent ${winnerId}` });

      // Only the owner replies; a resent client id is one message.
      expect(
        (
          await loser.call('POST', conversationPath(conversationId, 'reply'), {
            text: 'me too',
            client_msg_id: 'x1',
          })
        ).status,
      ).toBe(409);
      const reply = await winner.call('POST', conversationPath(conversationId, 'reply'), {
        text: 'Hi Vera, I am here.',
        client_msg_id: 'c1',
      });
      expect(reply.status).toBe(202);
      const again = await winner.call('POST', conversationPath(conversationId, 'reply'), {
        text: 'Hi Vera, I am here.',
        client_msg_id: 'c1',
      });
      expect(again.body).toEqual({ message_id: reply.body.message_id, duplicate: true });
      const [agentMessage] = await sse.waitFor(1, (e) => e.event === 'message' && e.data.role === 'agent');
      expect(agentMessage!.data).toMatchObject({
        id: reply.body.message_id,
        text: 'Hi Vera, I am here.',
        agent_name: `Agent ${winnerId}`,
      });
      await eventually(
        async () => (await t.hub.store.getDelivery(`agent:${conversationId}:c1`))?.status === 'sent',
        'agent reply sent',
      );

      // The visitor writes while the agent owns it: recorded, seen by the console, no bot answer.
      const during = await send(sessionId, 'thanks!', false);
      await eventually(
        async () =>
          (await t.hub.store.listRuns({ inboundMessageId: during.body.message_id }))[0]?.status ===
          'silenced',
        'silenced run',
      );
      const detail = await winner.call('GET', conversationPath(conversationId));
      expect(detail.body.messages.map((m: { role: string; text: string }) => `${m.role}:${m.text}`)).toEqual([
        'visitor:hi',
        'bot:echo: hi',
        'visitor:我要转人工',
        expect.stringMatching(/^bot:/),
        'system:NOBODY-ONLINE',
        'visitor:hello? anyone?',
        'agent:Hi Vera, I am here.',
        'visitor:thanks!',
      ]);
      expect(detail.body.runs.length).toBeGreaterThanOrEqual(4);
      // Who wrote the agent message stays on it, for the console and the visitor's history.
      const written = detail.body.messages.find((m: { role: string }) => m.role === 'agent');
      expect(written.sender_name).toBe(`Agent ${winnerId}`);
      const history = await fetch(`${t.url}/v1/chat/history?session_id=${sessionId}`).then((r) => r.json());
      expect(history.messages.find((m: { role: string }) => m.role === 'agent')).toMatchObject({
        agent_name: `Agent ${winnerId}`,
      });

      expect((await loser.call('POST', conversationPath(conversationId, 'release'))).status).toBe(409);
      expect((await winner.call('POST', conversationPath(conversationId, 'release'))).status).toBe(200);
      await sse.waitFor(1, (e) => e.event === 'state' && e.data.state === 'bot');
    } finally {
      sse.close();
    }
    expect((await send(sessionId, 'back again')).body.replies[0].text).toBe('echo: back again');
    const events = (await t.hub.store.listHandoffEvents(conversationId)).map((e) => [
      e.type,
      e.actor,
      e.fromState,
      e.toState,
    ]);
    expect(events).toEqual([
      ['queued', 'keyword', 'bot', 'queued'],
      ['claimed', expect.stringMatching(/^(alice|bob)$/), 'queued', 'agent'],
      ['released', expect.stringMatching(/^(alice|bob)$/), 'agent', 'bot'],
    ]);
  });

  it('two unsure answers in a row hand off; a sure one in between resets the streak', async () => {
    const { sessionId, conversationId } = await session();
    await send(sessionId, 'maybe one');
    await send(sessionId, 'plain');
    expect((await t.hub.store.getConversation(conversationId))?.state).toBe('bot');
    const first = await send(sessionId, 'maybe two');
    expect(first.body.replies.map((r: { text: string }) => r.text)).toEqual(['not sure: maybe two']);
    const second = await send(sessionId, 'maybe three');
    expect(second.body.replies.map((r: { text: string }) => r.text)).toEqual([
      'not sure: maybe three',
      expect.stringContaining('转接人工'),
      'NOBODY-ONLINE',
    ]);
    expect(await t.hub.store.getConversation(conversationId)).toMatchObject({
      state: 'queued',
      handoffQueue: 'unsure',
    });
    const [run] = await t.hub.store.listRuns({ inboundMessageId: second.body.message_id });
    expect(run?.status).toBe('handoff');
    expect(run?.steps.at(-1)).toMatchObject({
      id: 'handoff-low-confidence',
      output: { confidence: 0.2, runs: 2 },
    });
  });

  it('no notice while an agent has the console open; transfer and close are recorded', async () => {
    const stream = await openSse(`${t.url}/console/api/stream`, { authorization: `Bearer ${alice.token}` });
    try {
      await stream.waitFor(1, (e) => e.event === 'ready');
      const { sessionId, conversationId } = await session();
      const asked = await send(sessionId, 'a human please');
      expect(asked.body.replies).toHaveLength(1);
      await stream.waitFor(
        1,
        (e) =>
          e.event === 'conversation' &&
          e.data.conversation_id === conversationId &&
          e.data.state === 'queued',
      );
      const online = await bob.call('GET', '/console/api/agents');
      expect(online.body.online).toEqual(['alice']);

      expect((await alice.call('POST', conversationPath(conversationId, 'claim'))).status).toBe(200);
      const moved = await alice.call('POST', conversationPath(conversationId, 'transfer'), {
        to_agent: 'bob',
      });
      expect(moved.body.conversation).toMatchObject({ state: 'agent', assignee: 'bob' });
      expect((await alice.call('POST', conversationPath(conversationId, 'close'))).status).toBe(409);
      expect((await bob.call('POST', conversationPath(conversationId, 'close'))).status).toBe(200);
      await stream.waitFor(
        1,
        (e) =>
          e.event === 'conversation' &&
          e.data.conversation_id === conversationId &&
          e.data.state === 'closed',
      );
      const events = (await t.hub.store.listHandoffEvents(conversationId)).map((e) => `${e.type}:${e.actor}`);
      expect(events).toEqual(['queued:keyword', 'claimed:alice', 'transferred:alice', 'closed:bob']);
      expect((await t.post('/v1/chat/send', { session_id: sessionId, text: 'hello?' })).status).toBe(409);
    } finally {
      stream.close();
    }
  });
});
