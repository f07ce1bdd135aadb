/**
 * The single table's shape, read by the CDK data construct and by the local runtime when it
 * creates the table, so both are the same.
 *
 * Keys (operator first, so one operator's query never reads another's data):
 *   operator        OP#<op>            #OPERATOR
 *   api key         APIKEY#<sha256>    #APIKEY
 *   customer        OP#<op>            CUST#<id>        gsi1: OP#<op>#CUSTSTATUS#<status> / CUST#<id>
 *   template        OP#<op>            TPL#<id>
 *   gateway         GW#<ulid>          #GATEWAY         gsi1: OP#<op>#GATEWAYS / GW#<ulid>
 *   message         OP#<op>            MSG#<ulid>       gsi1: OP#<op>#CUST#<customer> / MSG#<ulid>
 *   provider id     PMID#<gw>#<pid>    #PMID            (strongly consistent webhook lookup)
 *   idempotency     OP#<op>            IDEM#<scope>#<key>  (ttl)
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
  timeToLiveAttribute: 'ttl',
} as const;

export const key = {
  operator: (op: string) => ({ pk: `OP#${op}`, sk: '#OPERATOR' }),
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: '#APIKEY' }),
  customer: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `CUST#${id}` }),
  customerStatusIndex: (op: string, status: string) => `OP#${op}#CUSTSTATUS#${status}`,
  template: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `TPL#${id}` }),
  gateway: (id: string) => ({ pk: `GW#${id}`, sk: '#GATEWAY' }),
  operatorGatewaysIndex: (op: string) => `OP#${op}#GATEWAYS`,
  message: (op: string, id: string) => ({ pk: `OP#${op}`, sk: `MSG#${id}` }),
  customerMessagesIndex: (op: string, customerId: string) => `OP#${op}#CUST#${customerId}`,
  providerMessage: (gatewayId: string, providerMessageId: string) => ({ pk: `PMID#${gatewayId}#${providerMessageId}`, sk: '#PMID' }),
  idempotency: (op: string, scope: string, idempotencyKey: string) => ({ pk: `OP#${op}`, sk: `IDEM#${scope}#${idempotencyKey}` }),
};
