import { deps } from '../../shared/deps.js';
import { assertNotifierKind, getNotifier, NotifierInput, NotifierRunInput, putNotifier, runNotifier } from '../../shared/services/notifiers.js';
import { api, json, parse } from './_middleware.js';

/** The due-date and expiry reminder ladders: read, save (with their daily schedule), and run one for a day that was missed. */
export const handler = api({
  'GET /v1/notifiers/{kind}': async ({ operator, params }) => json(200, await getNotifier(deps(), operator, assertNotifierKind(params.kind ?? ''))),
  'PUT /v1/notifiers/{kind}': async ({ operator, params, body }) => {
    const kind = assertNotifierKind(params.kind ?? '');
    return json(200, await putNotifier(deps(), operator, kind, parse(NotifierInput, body)));
  },
  'POST /v1/notifiers/{kind}/run': async ({ operator, params, body }) => {
    const kind = assertNotifierKind(params.kind ?? '');
    const { date } = parse(NotifierRunInput, body);
    return json(200, await runNotifier(deps(), operator, kind, { date }));
  },
});
