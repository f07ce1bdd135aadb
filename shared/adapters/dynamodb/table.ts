/**
 * The single table's shape, read by the CDK data construct and by the local runtime when it
 * creates the table, so both are the same.
 *
 * Keys (operator first, so one operator's query never reads another's data):
 *   operator        OP#<op>            #OPERATOR
 *   api key         APIKEY#<sha256>    #APIKEY
 *   customer        OP#<op>            CUST#<id>        gsi1: OP#<op>#CUSTSTATUS#<status> / CUST#<id>
 *                                                       gsi2: OP#<op>#NUM#<mobile> / CUST#<id>, gsi3: OP#<op>#NUM#<whatsapp> / CUST#<id>
 *   suppression     OP#<op>            SUPP#<email|phone>#<address>
 *   alert route     OP#<op>            ALERTROUTE#<purpose>
 *   template        OP#<op>            TPL#<id>
 *   gateway         GW#<ulid>          #GATEWAY         gsi1: OP#<op>#GATEWAYS / GW#<ulid>
 *   message         OP#<op>            MSG#<ulid>       gsi4 (not broadcast messages): OP#<op>#CUST#<customer> / MSG#<ulid>
 *                                                       gsi5 (failed, cancelled): OP#<op>#MSGSTATUS#<status> / MSG#<ulid>
 *                                                       gsi3 (queued, sent, failed awaiting fallback): PENDING#<status>#<shard> / <since>#<op>#<ulid>
 *                   (no gsi1/gsi2: those project ALL, and a message is rewritten on every status change)
 *   broadcast       OP#<op>            BCAST#<id>       gsi4 (once started): OP#<op>#BCASTS / <message prefix>#<id>
 *                   (a customer's broadcast messages are read by their derived ids: customer-broadcast-messages.ts)
 *   provider id     PMID#<gw>#<pid>    #PMID            (strongly consistent webhook lookup)
 *   idempotency     OP#<op>            IDEM#<scope>#<key>  (ttl)
 *   provider record PJ#<gw>            <provider's key>    (ttl; the sandbox's "what did I accept")
 *   gateway circuit GW#<ulid>          #CIRCUIT            (gateway faults in a row; open until)
 *   local schedule  SCHEDULES          SCHED#<name>        (local stack only: adapters/scheduler/local-scheduler.ts)
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
    // Customers by number, a customer's bills.
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' },
    // Sparse: only messages still queued or sent, for the reconciler and the local start-up requeue.
    { indexName: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk', projection: 'KEYS_ONLY' },
    // Keys only: an update that leaves the index keys alone writes no index.
    // A customer's messages (not their broadcast messages), newest first; the operator's started broadcasts.
    { indexName: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk', projection: 'KEYS_ONLY' },
    // Sparse: only failed and cancelled messages (rare, and final: a message never leaves them).
    { indexName: 'gsi5', partitionKey: 'gsi5pk', sortKey: 'gsi5sk', projection: 'KEYS_ONLY' },
  ],
  timeToLiveAttribute: 'ttl',
} as const;

/** The message statuses with an entry in the status index (gsi5); others are listed by a filtered read of the messages. */
export const isIndexedMessageStatus = (status: string): status is 'failed' | 'cancelled' => status === 'failed' || status === 'cancelled';

export type IndexProjection = 'ALL' | 'KEYS_ONLY';

/** Shards of the pending index (gsi3); the reconciler reads each. */
export const PENDING_SHARDS = 8;
export const pendingShard = (messageId: string) => messageId.charCodeAt(messageId.length - 1) % PENDING_SHARDS;

export const key = {
  operator: (op: string) => ({ pk: `OP#${op}`, sk: '#OPERATOR' }),
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: '#APIKEY' }),
  /** gsi1 of API keys: an owner's (operator's or the platform's) keys. */
  ownerKeysIndex: (ownerId: string) => `KEYS#${ownerId}`,
  customer: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `CUST#${id}` }),
  customerStatusIndex: (op: string, status: string) => `OP#${op}#CUSTSTATUS#${status}`,
  /** gsi2 (mobile) and gsi3 (WhatsApp number) of a customer: who a number that wrote to us belongs to. */
  customerNumberIndex: (op: string, number: string) => `OP#${op}#NUM#${number}`,
  /** An address or number the operator must not message (bounces, complaints, STOP). */
  suppression: (op: string, channelGroup: string, address: string) => ({ pk: `OP#${op}`, sk: `SUPP#${channelGroup}#${address}` }),
  alertRoute: (op: string, purpose: string) => ({ pk: `OP#${op}`, sk: `ALERTROUTE#${purpose}` }),
  template: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `TPL#${id}` }),
  gateway: (id: string) => ({ pk: `GW#${id}`, sk: '#GATEWAY' }),
  operatorGatewaysIndex: (op: string) => `OP#${op}#GATEWAYS`,
  message: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `MSG#${id}` }),
  /** gsi4 of a message: its customer's messages (broadcast messages excepted). */
  customerMessagesIndex: (op: string, customerId: string) => `OP#${op}#CUST#${customerId}`,
  /** gsi4 of a started broadcast: the operator's broadcasts in the order of their messages' ids. */
  startedBroadcastsIndex: (op: string) => `OP#${op}#BCASTS`,
  startedBroadcastSort: (messagePrefix: string, broadcastId: string) => `${messagePrefix}#${broadcastId}`,
  /** gsi5 of a failed or cancelled message (see `isIndexedMessageStatus`). */
  messageStatusIndex: (op: string, status: string) => `OP#${op}#MSGSTATUS#${status}`,
  /** Spread over shards so a broadcast's burst of queued messages does not hot-spot one index partition. */
  pendingIndex: (status: string, shard: number) => `PENDING#${status}#${shard}`,
  pendingSort: (since: string, op: string, id: string) => `${since}#${op}#${id}`,
  providerMessage: (gatewayId: string, providerMessageId: string) => ({ pk: `PMID#${gatewayId}#${providerMessageId}`, sk: '#PMID' }),
  idempotency: (op: string, scope: string, idempotencyKey: string) => ({ pk: `OP#${op}`, sk: `IDEM#${scope}#${idempotencyKey}` }),
  otp: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `OTP#${id}` }),
  /** The codes recently sent to one number, for the per-number limit. */
  otpRecent: (op: string, to: string) => ({ pk: `OP#${op}`, sk: `OTPTO#${to}` }),
  /** A payment link: global, since GET /p/{token} knows no operator until it has read the link. */
  paymentLink: (id: string) => ({ pk: `PLINK#${id}`, sk: '#PLINK' }),
};
