/**
 * The local stand-in for EventBridge Scheduler: each catalog schedule's handler, invoked in process
 * on the same `rate(...)` expression CDK deploys, one run at a time per schedule.
 */
import type { ScheduledFunction } from '../catalog.js';
import { createLambdaContext, invokeHandler, type LambdaHandler } from './lambda-invoke.js';

export interface ScheduleRunner {
  stop(): Promise<void>;
}

/** `rate(5 minutes)` → 300000. */
export function rateToMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (!match) throw new Error(`Unsupported schedule expression "${expression}"; use rate(N minutes) or rate(N hours).`);
  return Number(match[1]) * (match[2]!.startsWith('hour') ? 3_600_000 : 60_000);
}

export function startScheduleRunner(
  schedules: readonly ScheduledFunction[],
  loadHandler: (fn: ScheduledFunction) => Promise<LambdaHandler>,
  options: { firstRunAfterMs?: number } = {},
): ScheduleRunner {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  for (const fn of schedules) {
    let busy = false;
    const run = () => {
      if (stopped || busy) return;
      busy = true;
      const done = (async () => {
        try {
          const handler = await loadHandler(fn);
          const context = createLambdaContext({ functionName: `ispnotify-${fn.id}`, timeoutSeconds: fn.timeoutSeconds });
          // The payload EventBridge Scheduler sends with no input configured.
          await invokeHandler(handler, {}, context, fn.timeoutSeconds);
        } catch (error) {
          // A run cut short by shutdown (its database already gone) is not worth a line.
          if (!stopped) console.error(`[ispnotify-${fn.id}] scheduled run failed:`, error instanceof Error ? error.message : error);
        } finally {
          busy = false;
        }
      })();
      running.add(done);
      void done.then(() => running.delete(done));
    };
    const first = setTimeout(run, options.firstRunAfterMs ?? 5_000);
    const every = setInterval(run, rateToMs(fn.schedule));
    first.unref();
    every.unref();
    timers.push(first, every);
  }
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(running);
    },
  };
}
