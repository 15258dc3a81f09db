/** Health, readiness, metrics, CORS and the admin API's token check. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

describe('HTTP surface', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({
      workflows: { 'echo.yaml': ECHO_WORKFLOW },
      env: { ADMIN_TOKEN: 's3cret-token' },
    });
  });
  afterAll(async () => t?.stop());

  it('healthz and readyz report the parts', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    const body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body.checks.redis.ok).toBe(true);
    expect(body.checks.store.ok).toBe(true);
    expect(body.checks.workers.detail.partitions).toBe(4);
    expect(body.checks.workflows.detail).toEqual({ loaded: 1, issues: 0 });
  });

  it('metrics count messages by channel and outcome', async () => {
    const { body } = await t.post('/v1/chat/create', {});
    await t.post('/v1/chat/send', {
      session_id: body.session_id,
      text: 'count me',
      client_msg_id: 'm1',
      wait: true,
    });
    await t.post('/v1/chat/send', { session_id: body.session_id, text: 'count me', client_msg_id: 'm1' });
    // The visitor has the reply a moment before the worker counts the delivery: poll for it.
    const patterns = [/switchboard_outbound_deliveries_total\{channel="web",result="sent"\} [1-9]/];
    const text = await eventually(async () => {
      const scraped = await (await fetch(`${t.url}/metrics`)).text();
      return patterns.every((p) => p.test(scraped)) ? scraped : null;
    }, 'the delivery to be counted');
    expect(text).toMatch(/switchboard_inbound_messages_total\{channel="web",outcome="queued"\} [1-9]/);
    expect(text).toMatch(/switchboard_inbound_messages_total\{channel="web",outcome="duplicate"\} [1-9]/);
    expect(text).toMatch(/switchboard_outbound_deliveries_total\{channel="web",result="sent"\} [1-9]/);
    expect(text).toMatch(/switchboard_workflow_run_seconds_count\{workflow="echo",status="ok"\} [1-9]/);
  });

  it('answers CORS preflight for the visitor API', async () => {
    const res = await fetch(`${t.url}/v1/chat/send`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('admin routes need the token', async () => {
    expect((await fetch(`${t.url}/admin/dlq`)).status).toBe(401);
    expect((await fetch(`${t.url}/admin/dlq`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    const ok = await fetch(`${t.url}/admin/dlq`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ dead_letters: [], total: 0 });
    const bad = await fetch(`${t.url}/admin/dlq/replay`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret-token', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(bad.status).toBe(400);
  });

  it('unknown routes and webhooks of unconfigured channels are JSON 404s', async () => {
    const res = await fetch(`${t.url}/webhooks/wecom/nope`, { method: 'POST', body: '<xml/>' });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
