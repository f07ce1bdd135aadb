/**
 * Notifier read cost (issue 11): BENCH_NOTIFIER_CUSTOMERS customers (default 200,000), of whom
 * BENCH_NOTIFIER_DUE (default 2,000) have an unpaid bill due in 3 days; a due-date notifier with
 * that one step runs, and every step it queues (the run's estimate, plan pages, expand pages) is run
 * in process. DynamoDB read units consumed (ReturnConsumedCapacity, test/bench/aws-cost.ts) per
 * customer reminded; goal at most 1.2. The sends are not run: the send-time check of each reminder
 * (one eventually consistent GetItem of its bill, 0.5 units) is added to the figure.
 */
import { performance } from 'node:perf_hooks';
import { deps } from '../../shared/deps.js';
import type { Customer, CustomerBill } from '../../shared/domain/records.js';
import { startLocalRuntime } from '../../shared/local/runtime.js';
import { seedDemo } from '../../shared/local/seed.js';
import type { TaskQueue } from '../../shared/ports.js';
import { runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { putNotifier, runNotifier } from '../../shared/services/notifiers.js';
import { putTemplate } from '../../shared/services/templates.js';
import { installAwsMeter, metering, price } from './aws-cost.js';

const customerCount = Number(process.env.BENCH_NOTIFIER_CUSTOMERS ?? 200_000);
const dueCount = Number(process.env.BENCH_NOTIFIER_DUE ?? 2_000);
const GOAL = 1.2;
/** A send-time check reads one bill, eventually consistent: half a read unit. */
const SEND_TIME_CHECK_UNITS = 0.5;

export async function benchNotifierReads(): Promise<void> {
  installAwsMeter();
  const runtime = await startLocalRuntime({ port: 0, quiet: true, workers: false });
  try {
    await seedDemo({});
    const d = deps();
    const now = new Date('2026-12-02T04:00:00Z');
    const dueOn = '2026-12-05';
    await d.operators.update('demo', { messagesPerDay: 10_000_000, requestsPerSecond: 1000 });
    const at = now.toISOString();
    const seedStart = performance.now();
    for (let start = 0; start < customerCount; start += 5_000) {
      const customers: Customer[] = [];
      for (let i = start; i < Math.min(customerCount, start + 5_000); i++) {
        customers.push({ id: `nb-${i}`, name: `Customer ${i}`, mobile: `+88017${String(10_000_000 + i).slice(-8)}`, status: 'active', zone: `Z${i % 20}`, package: 'Home 20 Mbps', createdAt: at, updatedAt: at });
      }
      await d.customers.putMany('demo', customers);
    }
    const bills: CustomerBill[] = Array.from({ length: dueCount }, (_, i) => ({
      id: `NB-${i}`,
      customerId: `nb-${Math.floor((i * customerCount) / dueCount)}`,
      amount: 80_000,
      currency: 'BDT',
      dueDate: dueOn,
      status: 'unpaid',
      createdAt: at,
      updatedAt: at,
    }));
    await d.customerBills.putMany('demo', bills);
    console.log(`notifier  seeded ${customerCount.toLocaleString('en')} customers and ${dueCount.toLocaleString('en')} bills due ${dueOn} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (DynamoDB Local in memory)`);

    const operator = (await d.operators.get('demo'))!;
    await putTemplate(d, operator, 'bench-due', { name: 'Due', channel: 'sms', body: 'Dear {{customer.name}}, BDT {{bill.amount}} is due on {{bill.dueDate}}.' });
    const tasks: BroadcastTask[] = [];
    const queue: TaskQueue = { enqueue: async (name, list) => void (name === 'broadcasts' && tasks.push(...(list as BroadcastTask[]).filter((t) => t.type !== 'settle'))) };
    const fixed = { ...d, queue, clock: { now: () => now } };
    await putNotifier(fixed, operator, 'due-date', { enabled: true, steps: [{ offsetDays: 3, templateId: 'bench-due', channel: 'sms' }], sendAt: '09:30' });

    const meter = metering.start();
    const runStart = performance.now();
    const run = await runNotifier(fixed, operator, 'due-date', { date: '2026-12-02' });
    for (let task = tasks.shift(); task; task = tasks.shift()) await runBroadcastTask(fixed, task);
    const seconds = (performance.now() - runStart) / 1000;
    metering.stop();
    const broadcast = await d.broadcasts.get('demo', String(run.steps[0]!.broadcastId));
    const counts = await d.broadcasts.counts('demo', broadcast!.id, now);
    const reminded = counts.queued;
    const { units } = price(meter);
    const perCustomer = units.read / Math.max(reminded, 1);
    console.log(`notifier  run for ${dueOn}: ${reminded.toLocaleString('en')} reminded of ${customerCount.toLocaleString('en')} customers in ${seconds.toFixed(1)} s`);
    console.log(`notifier  read units consumed by the run (estimate, plan, expand): ${units.read.toFixed(0)} = ${perCustomer.toFixed(2)} per customer reminded`);
    console.log(`notifier  with each reminder's send-time check (+${SEND_TIME_CHECK_UNITS}): ${(perCustomer + SEND_TIME_CHECK_UNITS).toFixed(2)} per customer reminded (goal at most ${GOAL})`);
    const byOperation = [...meter.dynamo.entries()].filter(([key]) => /Query|Get/.test(key)).map(([key, line]) => `${key} ${line.units.toFixed(0)}`);
    console.log(`notifier  reads by operation: ${byOperation.join(', ')}`);
  } finally {
    await runtime.stop();
  }
}
