/**
 * `switchboard simulate` on the shipped demo: the after-sales workflow's parallel branches, each
 * with its status and time, the ones that fell back (Dify and the LLM are switched off in the
 * demo) with the reason — and nothing written: no data directory appears.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_CONFIG_DIR } from '../helpers/hub.ts';
import { runCli } from '../helpers/processes.ts';

it('simulate prints the parallel branches with their times and fallbacks, and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sim-'));
  try {
    const dataDir = join(dir, 'data');
    const { code, stdout } = await runCli(
      ['simulate', '--channel', 'web', '--text', 'where is my order SB20240002?'],
      { CONFIG_DIR: REPO_CONFIG_DIR, DATA_DIR: dataDir },
      // ~4 s on an idle machine; the in-memory PGlite of the demo orders boots slowly under load.
      45_000,
    );
    expect(code, stdout).toBe(0);
    const lines = stdout.split('\n');
    const line = (re: RegExp) => expect(lines, stdout).toContainEqual(expect.stringMatching(re));
    line(/^matched workflow: after-sales /);
    line(/^ {2}✓ recall \[parallel\] ok \d+\.\d ms → \{"dify":\{"status":"fallback"/);
    line(
      /^ {4}↺ dify \[dify\] fallback \d+\.\d ms \(dify:refund-guide: switched off in hub\.yaml \(sources\.dify\.enabled: false\)\)/,
    );
    line(/^ {4}✓ kb \[kb\] ok \d+\.\d ms → \{"source":"kb"/);
    line(/^ {4}✓ orders \[orders\] ok \d+\.\d ms → .*"order_no":"SB20240002"/);
    line(/^ {2}↺ answer \[llm\] fallback \d+\.\d ms \(llm:default: switched off in hub\.yaml/);
    line(/^ {2}\[text\] 订单 Order SB20240002：已发货 shipped · 保温杯 500ml/);
    line(/^status: ok, \d+\.\d ms$/);
    // The branches ran side by side: the parallel step took about as long as the slowest one.
    const ms = (re: RegExp) => Number(lines.find((l) => re.test(l))?.match(/ (\d+\.\d) ms/)?.[1]);
    const branches = [/ dify \[dify\]/, / kb \[kb\]/, / orders \[orders\]/].map(ms);
    // (Concurrency itself is proven with slow branches in kinds-parallel.test.ts; here a margin for
    // a busy machine.)
    expect(ms(/ recall \[parallel\]/)).toBeLessThan(branches.reduce((a, b) => a + b, 0) + 25);
    expect(existsSync(dataDir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
