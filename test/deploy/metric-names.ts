/** Which metric names a PromQL expression uses, and whether the hub's registry has them. */
import { registry } from '../../src/metrics.ts';
// The hub registers every metric it has as a side effect of loading its modules.
import '../../src/hub.ts';

/** Names in `expr` that start with `switchboard_` (every metric the hub exports does). */
export function hubMetricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bswitchboard_[a-zA-Z0-9_:]*/g) ?? [])];
}

/** Undefined when `name` is a series the registry exports; else why not. */
export async function unknownSeries(name: string): Promise<string | undefined> {
  const metrics = await registry.getMetricsAsJSON();
  const types = new Map(metrics.map((m) => [m.name, String(m.type)]));
  if (types.has(name))
    return types.get(name) === 'histogram'
      ? `${name} is a histogram: query _bucket, _sum or _count`
      : undefined;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  if (base && types.get(base) === 'histogram') return undefined;
  return `${name} is not exported by the hub`;
}
