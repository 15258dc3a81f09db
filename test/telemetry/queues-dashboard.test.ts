/**
 * /admin/queues: bull-board behind the admin token, every asset served from the package (no CDN),
 * a cookie login for browsers that keeps the token itself out of the cookie.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { ECHO_WORKFLOW } from '../helpers/workflows.ts';

const TOKEN = 'dashboard-secret';

describe('/admin/queues', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO_WORKFLOW }, env: { ADMIN_TOKEN: TOKEN } });
  });
  afterAll(() => t?.stop());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, { headers, redirect: 'manual' });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('refuses requests without the admin token', async () => {
    expect((await get('/admin/queues')).status).toBe(401);
    expect((await get('/admin/queues/api/queues')).status).toBe(401);
    expect((await get('/admin/queues', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get('/admin/queues?token=nope')).status).toBe(401);
  });

  it('serves the dashboard and all its assets from the package, nothing from a CDN', async () => {
    const res = await get('/admin/queues', bearer);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => /^(https?:)?\/\//.test(r))).toEqual([]);
    const assets = refs.filter((r) => r.startsWith('static/'));
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const a = await get(`/admin/queues/${asset}`, bearer);
      expect(a.status, asset).toBe(200);
      expect(a.headers.get('content-type') ?? '', asset).toMatch(/javascript|css|image/);
      await a.arrayBuffer();
    }
  });

  it('lists the hub queues through its API', async () => {
    const res = await get('/admin/queues/api/queues', bearer);
    expect(res.status).toBe(200);
    const names = ((await res.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['inbound-0', 'outbound-3', 'dead-letter']));
    expect(names).toHaveLength(4 * 2 + 1);
  });

  it('?token= logs a browser in with an HttpOnly cookie that is not the token', async () => {
    const login = await get(`/admin/queues?token=${TOKEN}`);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin/queues');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/admin\/queues/);
    expect(cookie).not.toContain(TOKEN);
    const pair = cookie.split(';')[0]!;
    expect((await get('/admin/queues', { cookie: pair })).status).toBe(200);
    expect((await get('/admin/queues/api/queues', { cookie: pair })).status).toBe(200);
    expect((await get('/admin/queues', { cookie: `${pair.split('=')[0]}=forged` })).status).toBe(401);
  });
});

describe('/admin/queues without ADMIN_TOKEN', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': ECHO_WORKFLOW } });
  });
  afterAll(() => t?.stop());

  it('is closed, not open', async () => {
    const res = await fetch(`${t.url}/admin/queues`, { headers: { authorization: 'Bearer anything' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('admin_disabled');
  });
});
