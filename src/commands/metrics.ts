// The command handler's Prometheus metrics, wired by the process that owns the registry.
import { Counter, type Registry } from 'prom-client';
import type { CommandRequest } from './handler.js';

/**
 * `mining_commands_clamped_total{command}`: commands whose clock read earlier than their stream's last
 * event, so the event's time was used (docs/domain.md "Clock corrections"). Steady growth means the
 * server's clock was set back or processes on different clocks write the same streams.
 */
export function clampedCommandsMetric(registry: Registry): (command: CommandRequest['type']) => void {
  const counter = new Counter({
    name: 'mining_commands_clamped_total',
    help: "Commands decided with a clock behind their stream's last event (the event's time was used)",
    labelNames: ['command'] as const,
    registers: [registry],
  });
  for (const command of ['start', 'heartbeat', 'stop', 'expire'] as const) counter.inc({ command }, 0);
  return (command) => counter.inc({ command });
}
