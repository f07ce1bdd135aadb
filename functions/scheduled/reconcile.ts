import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deps } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { metrics } from '../../shared/metrics.js';
import { reconcileMessages } from '../../shared/services/reconcile.js';

/** Invoked by EventBridge Scheduler (and the local runtime's runner) on the catalog's schedule. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    try {
      const report = await reconcileMessages(deps());
      metrics.addMetric('SmsRequeued', MetricUnit.Count, report.requeued);
      metrics.addMetric('SmsReceiptsReconciled', MetricUnit.Count, report.resolved);
      // Messages that stay sent with no answer: alarmed, never silently forgotten.
      metrics.addMetric('SmsReceiptOverdue', MetricUnit.Count, report.overdue);
      if (report.requeued + report.resolved + report.overdue > 0) logger.info('Reconciled pending messages', { ...report });
      return report;
    } finally {
      metrics.publishStoredMetrics();
    }
  });
