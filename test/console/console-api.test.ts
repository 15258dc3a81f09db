/**
 * The console API's gatekeeping and admin views: login (agents and ADMIN_TOKEN), sessions,
 * throttled guessing, roles, agent management, dead letters with replay, and the static pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type ConsoleClient, consoleClient, createAgent } from '../helpers/console.ts';
import { FAST_QUEUE_YAML, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

describe('console API', () => {
  let t: TestHub;
  let admin: ConsoleClient;
  let alice: ConsoleClient;
  beforeAll(async () => {
    t = await startTestHub({
      hubYaml: `channels:\n  - { id: web, type: web }\n${FAST_QUEUE_YAML}`,
      workflows: { 'echo.yaml': ECHO_WORKFLOW },
      database: 'pg',
      env: { ADMIN_TOKEN },
    });
    admin = consoleClient(t, ADMIN_TOKEN);
    alice = await createAgent(t, 'alice');
  });
  afterAll(async () => t?.stop());

  it('needs a valid bearer token; logout ends the session', async () => {
    expect((await consoleClient(t, '').call('GET', '/console/api/conversations')).status).toBe(401);
    expect((await consoleClient(t, 'forged').call('GET', '/console/api/me')).status).toBe(401);
    expect((await alice.call('GET', '/console/api/me')).body.agent).toEqual({
      id: 'alice',
      name: 'Agent alice',
      role: 'agent',
    });
    const login = await t.post('/console/api/login', { admin_token: ADMIN_TOKEN });
    expect(login.body.agent).toEqual({ id: '@admin', name: 'Admin', role: 'admin' });
    const session = consoleClient(t, login.body.token);
    expect((await session.call('POST', '/console/api/logout')).status).toBe(200);
    expect((await session.call('GET', '/console/api/me')).status).toBe(401);
  });

  it('wrong credentials are 401 with one message for every cause, then throttled', async () => {
    await createAgent(t, 'dora');
    const wrong = await t.post('/console/api/login', { username: 'dora', password: 'nope-nope' });
    const unknown = await t.post('/console/api/login', { username: 'nobody', password: 'nope-nope' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    for (let i = 0; i < 4; i++)
      await t.post('/console/api/login', { username: 'dora', password: 'nope-nope' });
    const blocked = await t.post('/console/api/login', { username: 'dora', password: 'pw-dora-secret' });
    expect(blocked.status).toBe(429);
  });

  it('admins manage agents; agents only list them; disabling logs an agent out', async () => {
    expect(
      (await alice.call('POST', '/console/api/agents', { id: 'eve', password: 'long-enough' })).status,
    ).toBe(403);
    expect(
      (await admin.call('POST', '/console/api/agents', { id: 'Bad Id', password: 'long-enough' })).status,
    ).toBe(400);
    expect(
      (await admin.call('POST', '/console/api/agents', { id: 'eve', password: 'short' })).body.error.field,
    ).toBe('password');
    expect(
      (await admin.call('POST', '/console/api/agents', { id: 'alice', password: 'long-enough' })).status,
    ).toBe(409);
    const listed = await alice.call('GET', '/console/api/agents');
    expect(listed.body.agents.map((a: { id: string }) => a.id)).toContain('alice');
    expect(JSON.stringify(listed.body)).not.toMatch(/scrypt|password/);
    const carl = await createAgent(t, 'carl');
    expect((await admin.call('PATCH', '/console/api/agents/carl', { disabled: true })).status).toBe(200);
    expect((await carl.call('GET', '/console/api/me')).status).toBe(401);
    expect(
      (await t.post('/console/api/login', { username: 'carl', password: 'pw-carl-secret' })).status,
    ).toBe(401);
    const hash = await t.hub.store.getAgentPasswordHash('carl');
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain('pw-carl-secret');
  });

  it('dead letters: admins list and replay them, agents may not', async () => {
    expect((await alice.call('GET', '/console/api/dlq')).status).toBe(403);
    await t.hub.deadLetters.add({
      kind: 'inbound',
      queue: 'inbound-0',
      jobId: 'job-x',
      data: { message: { id: 'm_x', conversationId: 'web:web:gone' } } as never,
      error: 'boom',
      attempts: 3,
      failedAt: new Date().toISOString(),
      traceId: 'tr',
      conversationId: 'web:web:gone',
    });
    const listed = await admin.call('GET', '/console/api/dlq');
    expect(listed.body.total).toBe(1);
    expect(listed.body.dead_letters[0]).toMatchObject({ id: 'dl-job-x', error: 'boom' });
    expect((await admin.call('POST', '/console/api/dlq/replay', { ids: ['dl-nope'] })).status).toBe(404);
  });

  it('conversation moves validate their input and name conflicts', async () => {
    const missing = await alice.call('POST', '/console/api/conversations/web%3Aweb%3Anope/claim');
    expect(missing.status).toBe(404);
    expect((await alice.call('POST', '/console/api/conversations/x/transfer', {})).status).toBe(400);
    expect(
      (
        await alice.call('POST', '/console/api/conversations/x/reply', {
          text: 'hi',
          client_msg_id: 'has space',
        })
      ).body.error.field,
    ).toBe('client_msg_id');
    const session = await t.post('/v1/chat/create', {});
    const id = `web:web:${session.body.session_id}`;
    const noMessage = await alice.call('POST', `/console/api/conversations/${encodeURIComponent(id)}/claim`);
    expect(noMessage.status).toBe(200); // take over a bot conversation
    const reply = await alice.call('POST', `/console/api/conversations/${encodeURIComponent(id)}/reply`, {
      text: 'hi',
      client_msg_id: 'a1',
    });
    expect(reply.status).toBe(409);
    expect(reply.body.error.message).toMatch(/nowhere to reply/);
  });

  it('serves the console page and the widget with their headers', async () => {
    const page = await fetch(`${t.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/console/assets/app.js');
    for (const asset of [
      'app.js',
      'api.js',
      'inbox.js',
      'conversation.js',
      'trace.js',
      'admin.js',
      'dom.js',
      'style.css',
    ]) {
      expect((await fetch(`${t.url}/console/assets/${asset}`)).status, asset).toBe(200);
    }
    expect((await fetch(`${t.url}/console/assets/nope.js`)).status).toBe(404);
    const widget = await fetch(`${t.url}/widget.js`);
    expect(widget.headers.get('content-type')).toMatch(/javascript/);
    expect(widget.headers.get('access-control-allow-origin')).toBe('*');
    const source = await widget.text();
    expect(source).not.toContain('__WIDGET_CSS__');
    expect(source).toContain('--sb-accent');
    expect(
      (await fetch(`${t.url}/widget.js`, { headers: { 'if-none-match': widget.headers.get('etag')! } }))
        .status,
    ).toBe(304);
    const demo = await (await fetch(`${t.url}/chat`)).text();
    expect(demo).toContain('<script src="/widget.js"');
  });
});
