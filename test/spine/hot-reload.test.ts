/**
 * Ops edit workflows in a running hub: a good edit takes effect without a restart; a broken save
 * keeps the last good version serving and reports `file:line:col message`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from '../helpers/hub.ts';

const version = (label: string) =>
  `name: echo\ndefault: true\nsteps:\n  - reply: "${label}: {{ message.text }}"\n`;

describe('hot reload of workflows', () => {
  let t: TestHub;
  let sessionId: string;
  beforeAll(async () => {
    t = await startTestHub({ workflows: { 'echo.yaml': version('v1') } });
    sessionId = (await t.post('/v1/chat/create', {})).body.session_id;
  });
  afterAll(async () => t?.stop());

  const ask = async (text: string) => {
    const res = await t.post('/v1/chat/send', { session_id: sessionId, text, wait: true });
    expect(res.status).toBe(200);
    return res.body.replies[0].text as string;
  };

  it('serves an edited workflow without a restart', async () => {
    expect(await ask('a')).toBe('v1: a');
    t.writeWorkflow('echo.yaml', version('v2'));
    await eventually(async () => (await ask('b')).startsWith('v2'), 'the edit to take effect');
  });

  it('keeps the last good version when a broken file is saved, and reports where', async () => {
    t.writeWorkflow('echo.yaml', 'name: echo\ndefault: true\nsteps:\n  - reply: "{{ message.text "\n');
    const file = join(t.configDir, 'workflows', 'echo.yaml');
    const issue = await eventually(
      () => t.hub.catalog!.issues().find((i) => i.file === file),
      'the broken file to be reported',
    );
    expect(issue.line).toBe(4);
    expect(issue.col).toBeGreaterThan(0);
    expect(await ask('c')).toBe('v2: c');

    t.writeWorkflow('echo.yaml', version('v3'));
    await eventually(async () => (await ask('d')) === 'v3: d', 'the fix to take effect');
    expect(t.hub.catalog!.issues()).toEqual([]);
  });

  it('a new file adds a workflow; a deleted one is gone', async () => {
    t.writeWorkflow(
      'vip.yaml',
      'name: vip\npriority: 5\nmatch:\n  any: [{ keywords: [vip] }]\nsteps:\n  - reply: "hello VIP"\n',
    );
    await eventually(async () => (await ask('I am a vip')) === 'hello VIP', 'the new workflow');
    const { rmSync } = await import('node:fs');
    rmSync(join(t.configDir, 'workflows', 'vip.yaml'));
    await eventually(
      async () => (await ask('vip again')) === 'v3: vip again',
      'the deleted workflow to be gone',
    );
  });
});
