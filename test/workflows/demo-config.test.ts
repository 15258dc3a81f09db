/** The shipped config/workflows load cleanly and answer as the comments in them promise. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { aiStepKinds } from '../../src/ai/step-kinds.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import {
  defaultStepKinds,
  type LoadResult,
  loadWorkflowDir,
  runWorkflow,
} from '../../src/workflows/index.ts';
import { conversation, message, silent } from './helpers.ts';

const DIR = join(import.meta.dirname, '..', '..', 'config', 'workflows');
const kinds = defaultStepKinds();
for (const kind of aiStepKinds()) kinds.register(kind);

describe('demo workflows (config/workflows)', () => {
  let loaded: LoadResult;
  beforeAll(async () => {
    loaded = await loadWorkflowDir(DIR, kinds);
  });

  const ask = async (text: string, over = {}) => {
    const msg = message(text, over);
    const wf = loaded.set.match(msg, conversation());
    expect(wf, `a workflow for "${text}"`).not.toBeNull();
    return runWorkflow(
      wf!,
      { message: msg, conversation: conversation() },
      { kinds, logger: silent, stepTimeoutMs: 2000, runTimeoutMs: 5000, dryRun: true },
    );
  };

  it('all load with zero issues', () => {
    expect(loaded.issues.map(formatConfigIssue)).toEqual([]);
    expect(loaded.set.list().map((w) => w.name)).toEqual([
      'human',
      'faq-shipping',
      'after-sales',
      'greetings',
      'default',
    ]);
  });

  it('"你好" → greetings, in Chinese and English', async () => {
    const r = await ask('你好');
    expect(r.workflow).toBe('greetings');
    expect(r.status).toBe('ok');
    expect(r.replies).toHaveLength(1);
    expect(r.replies[0]?.text).toContain('您好，Ann');
    expect(r.replies[0]?.text).toContain('Hello Ann');
    expect((await ask('Hi there')).workflow).toBe('greetings');
  });

  it('"when will my order ship?" → the English shipping answer and a follow-up', async () => {
    const r = await ask('when will my order ship?');
    expect(r.workflow).toBe('faq-shipping');
    expect(r.vars.lang).toBe('en');
    expect(r.replies.map((x) => x.text)).toEqual([
      expect.stringMatching(/^Orders ship within 24 hours/),
      expect.stringMatching(/^Anything else\?/),
    ]);
    const zh = await ask('我的快递什么时候发货？');
    expect(zh.workflow).toBe('faq-shipping');
    expect(zh.vars.lang).toBe('zh');
    expect(zh.replies[0]?.text).toMatch(/^订单付款后 24 小时内发货/);
    expect(zh.replies[1]?.text).toMatch(/人工/);
    // a question beats a greeting; "relationship" is not "ship"
    expect((await ask('hi, where is my delivery?')).workflow).toBe('faq-shipping');
    expect((await ask('relationship advice')).workflow).toBe('default');
  });

  it('"转人工" → handoff to the general queue, with the step\'s reply', async () => {
    const r = await ask('转人工');
    expect(r.workflow).toBe('human');
    expect(r.status).toBe('handoff');
    expect(r.handoff).toMatchObject({ queue: 'general', reason: 'visitor asked for a human: 转人工' });
    expect(r.replies.map((x) => x.text)).toEqual([expect.stringContaining('转接人工客服')]);
    expect((await ask('can I talk to an agent please')).status).toBe('handoff');
  });

  it('"random" → the default demo answer', async () => {
    const r = await ask('random');
    expect(r.workflow).toBe('default');
    expect(r.status).toBe('ok');
    expect(r.replies[0]?.text).toContain("I'm a demo bot");
    const image = await ask('', { kind: 'image' });
    expect(image.workflow).toBe('default');
  });
});
