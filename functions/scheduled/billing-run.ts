import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { deps } from '../../shared/deps.js';
import { logger } from '../../shared/logger.js';
import { runBilling } from '../../shared/services/bills.js';

/** Invoked by EventBridge Scheduler (and the local runtime's runner): the bills of months that ended. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const report = await runBilling(deps());
    if (report.made > 0) logger.info('Made bills', report);
    return report;
  });
