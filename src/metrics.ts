/**
 * Prometheus metrics (prom-client). One registry per process, served at GET /metrics.
 * Labels are low-cardinality on purpose: channel type, outcome, workflow, step kind — never ids.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
// Node process metrics: switchboard_process_cpu_seconds_total, switchboard_nodejs_eventloop_lag_seconds, …
collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  inbound: new Counter({
    name: 'switchboard_inbound_messages_total',
    help: 'Inbound messages by channel and outcome (queued, duplicate, rejected)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  }),
  webhookIgnored: new Counter({
    name: 'switchboard_webhook_ignored_total',
    help: 'Platform events deliberately ignored by an adapter',
    labelNames: ['channel', 'reason'] as const,
    registers: [registry],
  }),
  workflowRuns: new Histogram({
    name: 'switchboard_workflow_run_seconds',
    help: 'Workflow run duration by workflow and status',
    labelNames: ['workflow', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  workflowSteps: new Histogram({
    name: 'switchboard_workflow_step_seconds',
    help: 'Workflow step duration by workflow, step kind and status',
    labelNames: ['workflow', 'kind', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  fallbacks: new Counter({
    name: 'switchboard_fallbacks_total',
    help: 'Fallbacks taken by workflow and step kind',
    labelNames: ['workflow', 'kind'] as const,
    registers: [registry],
  }),
  deliveries: new Counter({
    name: 'switchboard_outbound_deliveries_total',
    help: 'Outbound sends by channel and result (sent, retry, rate_limited, held, dead, skipped_duplicate)',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  }),
  endToEnd: new Histogram({
    name: 'switchboard_end_to_end_seconds',
    help: 'Time from receipt of an inbound message to delivery of its reply',
    labelNames: ['channel'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'switchboard_dead_lettered_total',
    help: 'Jobs moved to the dead-letter queue',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  breakerState: new Gauge({
    name: 'switchboard_breaker_open',
    help: '1 when the circuit breaker of a target is open or half-open, else 0',
    labelNames: ['target'] as const,
    registers: [registry],
  }),
  ownedPartitions: new Gauge({
    name: 'switchboard_owned_partitions',
    help: 'Queue partitions this worker process currently owns',
    registers: [registry],
  }),
};
