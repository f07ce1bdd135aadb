import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { ResourceId } from '../../shared/domain/schemas.js';
import { createKey, deleteKey, keyView } from '../../shared/services/keys.js';
import { api, json, parse } from './_middleware.js';

const KeyInput = z.strictObject({
  role: z.enum(['admin', 'billing', 'read-only', 'reseller']),
  label: z.string().trim().min(1).max(100).default('api'),
  resellerId: ResourceId.optional(),
});

export const handler = api({
  // The key is in this reply only; it is stored hashed.
  'POST /v1/keys': async ({ operator, body }) => {
    const { apiKey, record } = await createKey(deps(), operator.id, parse(KeyInput, body));
    return json(201, { ...keyView(record), apiKey });
  },
  'GET /v1/keys': async ({ operator }) => json(200, { items: (await deps().operators.listKeys(operator.id)).map(keyView) }),
  'DELETE /v1/keys/{id}': async ({ operator, params }) => {
    await deleteKey(deps(), operator.id, parse(z.string().min(1).max(64), params.id, 'key id in the path', { field: 'id' }));
    return { statusCode: 204 };
  },
});
