import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import type { ProviderJournal } from '../../ports.js';
import { documentClient } from './client.js';
import { coalescedPut } from './coalesced-put.js';

/** A provider's own records are kept for as long as a late lookup can need them. */
const JOURNAL_TTL_SECONDS = 30 * 24 * 60 * 60;

/** Every gateway's journal entries of this process, written together. */
const putJournalEntry = coalescedPut((item) => `${String(item.pk)}\u0000${String(item.sk)}`);

/** One gateway's journal: items PJ#<gateway> / <key>, so gateways never see each other's records. */
export function dynamoProviderJournal(gatewayId: string, now: () => Date = () => new Date()): ProviderJournal {
  const itemKey = (journalKey: string) => ({ pk: `PJ#${gatewayId}`, sk: journalKey });
  return {
    async get(journalKey) {
      const reply = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: itemKey(journalKey), ConsistentRead: true }));
      if (!reply.Item) return undefined;
      const { pk: _pk, sk: _sk, ttl: _ttl, entity: _entity, ...value } = reply.Item;
      return value;
    },
    async put(journalKey, value) {
      // Sends in flight together share a BatchWriteItem; each put still returns once its entry is stored.
      await putJournalEntry({ ...value, ...itemKey(journalKey), entity: 'providerJournal', ttl: Math.floor(now().getTime() / 1000) + JOURNAL_TTL_SECONDS });
    },
  };
}
