/**
 * The CLI as an operator uses it: validate (file:line:col, exit 1), simulate (dry run), and a
 * start that fails fast and clearly when Redis is not there.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_CONFIG_DIR } from '../helpers/hub.ts';
import { runCli } from '../helpers/processes.ts';

describe('switchboard CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    mkdirSync(join(dir, 'workflows'));
    writeFileSync(
      join(dir, 'hub.yaml'),
      'channels:\n  - { id: web, type: web }\n  - { id: x, type: carrier-pigeon }\nqueue:\n  partitions: zero\n',
    );
    writeFileSync(
      join(dir, 'workflows', 'broken.yaml'),
      [
        'name: broken',
        'match:',
        '  any:',
        '    - { regex: "([a-z" }',
        'steps:',
        '  - replyy: "hi"',
        '  - reply: "{{ message.text "',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'workflows', 'good.yaml'),
      'name: good\ndefault: true\nsteps:\n  - reply: "ok {{ message.text }}"\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validate prints file:line:col message for each error and exits 1', async () => {
    const { code, stdout } = await runCli(['validate'], { CONFIG_DIR: dir });
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    const hub = join(dir, 'hub.yaml');
    const broken = join(dir, 'workflows', 'broken.yaml');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${hub}:3:\\d+ .*unknown channel type "carrier-pigeon"`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${hub}:5:\\d+ .*partitions`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${broken}:4:\\d+ .*regex`, 'i')));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${broken}:6:\\d+ .*unknown step kind "replyy"`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${broken}:7:\\d+ .*`)));
    expect(lines.every((l) => /^\/.+:\d+:\d+ \S/.test(l))).toBe(true);
  });

  it('validate accepts the shipped demo config', async () => {
    const { code, stdout } = await runCli(['validate'], { CONFIG_DIR: REPO_CONFIG_DIR });
    expect(stdout).toMatch(/^ok: \d+ file\(s\), \d+ workflow\(s\)/);
    expect(code).toBe(0);
  });

  it('validate of a single named file', async () => {
    const good = await runCli(['validate', join(dir, 'workflows', 'good.yaml')]);
    expect(good.code).toBe(0);
    const bad = await runCli(['validate', join(dir, 'workflows', 'broken.yaml')]);
    expect(bad.code).toBe(1);
  });

  it('simulate prints the matched workflow, each step with its time, and the replies — sending nothing', async () => {
    const { code, stdout } = await runCli(['simulate', '--channel', 'web', '--text', '你好'], {
      CONFIG_DIR: REPO_CONFIG_DIR,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/matched workflow: greetings/);
    expect(stdout).toMatch(/✓ \S+ \[reply\] ok \d+\.\d ms/);
    expect(stdout).toMatch(/replies:\n {2}\[text\] .+/);
  });

  it('simulate --json gives the whole run', async () => {
    const { stdout } = await runCli(
      ['simulate', '--channel', 'web', '--text', 'something else entirely', '--json'],
      {
        CONFIG_DIR: REPO_CONFIG_DIR,
      },
    );
    const run = JSON.parse(stdout);
    expect(run.workflow).toBe('default');
    expect(run.replies.length).toBeGreaterThan(0);
    expect(run.steps[0].ms).toBeGreaterThanOrEqual(0);
  });

  it('start fails within seconds, in one line, when Redis is unreachable', async () => {
    const { code, stderr, ms } = await runCli(['start'], {
      REDIS_URL: 'redis://127.0.0.1:1',
      CONFIG_DIR: REPO_CONFIG_DIR,
      DATA_DIR: join(dir, 'data'),
      PORT: '0',
    });
    expect(code).toBe(1);
    expect(ms).toBeLessThan(8000);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*redis-server.*REDIS_URL/);
  });
});
