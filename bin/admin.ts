/**
 * Operator administration against the deployed (or local) table:
 *   npm run admin -- create-operator --id acme --name "Acme ISP" --country BD --timezone Asia/Dhaka
 *   npm run admin -- create-key --id acme
 * Needs TABLE_NAME (the stack's TableName output) and AWS credentials; prints the new API key once.
 */
import { parseArgs } from 'node:util';
import { generateApiKey, hashApiKey } from '../shared/domain/api-keys.js';
import { isCountryCode } from '../shared/domain/phone.js';
import { ResourceId } from '../shared/domain/schemas.js';
import { dynamoOperatorStore as operators } from '../shared/adapters/dynamodb/operators.js';

process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
process.env.CREDENTIALS_LOCAL_KEY ??= Buffer.alloc(32).toString('base64');

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: { id: { type: 'string' }, name: { type: 'string' }, country: { type: 'string', default: 'BD' }, timezone: { type: 'string', default: 'Asia/Dhaka' } },
});

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function createKey(operatorId: string) {
  const apiKey = generateApiKey();
  await operators.putApiKey(hashApiKey(apiKey), operatorId, 'admin cli');
  console.log(`API key: ${apiKey}`);
}

if (!process.env.TABLE_NAME) fail('Set TABLE_NAME to the stack\'s TableName output.');
const id = ResourceId.safeParse(values.id);
if (!id.success) fail('--id is required: 1-64 letters, digits, "_", "-", "." or ":".');

if (command === 'create-operator') {
  if (!values.name) fail('--name is required.');
  if (!isCountryCode(values.country!)) fail(`--country "${values.country}" is not an ISO 3166 country code.`);
  if (await operators.get(id.data)) fail(`Operator "${id.data}" already exists; use create-key for another key.`);
  await operators.put({ id: id.data, name: values.name, defaultCountry: values.country!.toUpperCase(), timezone: values.timezone!, createdAt: new Date().toISOString() });
  console.log(`Operator: ${id.data}`);
  await createKey(id.data);
} else if (command === 'create-key') {
  if (!(await operators.get(id.data))) fail(`Operator "${id.data}" does not exist.`);
  await createKey(id.data);
} else {
  fail('Usage: npm run admin -- create-operator --id <id> --name <name> [--country BD] [--timezone Asia/Dhaka] | create-key --id <id>');
}
