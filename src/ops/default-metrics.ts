// prom-client's process and Node.js figures, minus the three gauges whose names end in `_total`
// (`promtool check metrics`: "non-counter metrics should not have _total suffix"). The same counts
// stay exported by type as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}
