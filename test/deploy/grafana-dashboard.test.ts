/**
 * deploy/grafana/switchboard.json: valid JSON, and every metric its panels query is one the hub
 * exports — a renamed or dropped metric fails here instead of leaving an empty panel in production.
 */
import { describe, expect, it } from 'vitest';
import { readDeploy } from './load-manifests.ts';
import { hubMetricNames, unknownSeries } from './metric-names.ts';

interface Panel {
  title?: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readDeploy('grafana/switchboard.json')) as {
  panels: Panel[];
  uid: string;
  templating: unknown;
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '', expr: t.expr })));

describe('Grafana dashboard', () => {
  it('queries only metrics the hub exports', async () => {
    expect(exprs.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const { panel, expr } of exprs) {
      const names = hubMetricNames(expr);
      if (names.length === 0) problems.push(`${panel}: queries no switchboard metric: ${expr}`);
      for (const name of names) {
        const why = await unknownSeries(name);
        if (why) problems.push(`${panel}: ${why}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('covers each metric family the issue asks for', () => {
    const used = new Set(exprs.flatMap(({ expr }) => hubMetricNames(expr)));
    for (const name of [
      'switchboard_inbound_messages_total',
      'switchboard_workflow_run_seconds_bucket',
      'switchboard_workflow_step_seconds_bucket',
      'switchboard_fallbacks_total',
      'switchboard_breaker_open',
      'switchboard_outbound_deliveries_total',
      'switchboard_queue_jobs',
      'switchboard_end_to_end_seconds_bucket',
      'switchboard_process_resident_memory_bytes',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('uses a datasource variable, not a hard-wired datasource', () => {
    const text = readDeploy('grafana/switchboard.json');
    expect(text).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|switchboard-hub)[^"]*"/);
    expect(JSON.stringify(dashboard.templating)).toContain('"type":"datasource"');
  });

  it('the unknown-metric check can fail', async () => {
    expect(await unknownSeries('switchboard_no_such_metric')).toMatch(/not exported/);
    expect(await unknownSeries('switchboard_end_to_end_seconds')).toMatch(/histogram/);
    expect(await unknownSeries('switchboard_end_to_end_seconds_bucket')).toBeUndefined();
  });
});
