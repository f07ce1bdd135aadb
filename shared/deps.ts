/** The composition root: the real adapters behind the ports, built once per process. */
import { kmsCipher } from './adapters/crypto/kms-cipher.js';
import { localCipher } from './adapters/crypto/local-cipher.js';
import { dynamoCustomerStore } from './adapters/dynamodb/customers.js';
import { dynamoGatewayStore } from './adapters/dynamodb/gateways.js';
import { dynamoMessageStore } from './adapters/dynamodb/messages.js';
import { dynamoOperatorStore } from './adapters/dynamodb/operators.js';
import { dynamoTemplateStore } from './adapters/dynamodb/templates.js';
import { sqsTaskQueue } from './adapters/sqs/task-queue.js';
import { config, onConfigReset } from './config.js';
import type {
  Clock,
  CredentialsCipher,
  CustomerStore,
  GatewayStore,
  MessageStore,
  OperatorStore,
  TaskQueue,
  TemplateStore,
} from './ports.js';

export interface Deps {
  operators: OperatorStore;
  customers: CustomerStore;
  templates: TemplateStore;
  gateways: GatewayStore;
  messages: MessageStore;
  queue: TaskQueue;
  cipher: CredentialsCipher;
  clock: Clock;
  fetch: typeof fetch;
  publicBaseUrl: string;
}

let built: Deps | undefined;

export function deps(): Deps {
  if (built) return built;
  const env = config();
  built = {
    operators: dynamoOperatorStore,
    customers: dynamoCustomerStore,
    templates: dynamoTemplateStore,
    gateways: dynamoGatewayStore,
    messages: dynamoMessageStore,
    queue: sqsTaskQueue,
    cipher: env.CREDENTIALS_KMS_KEY_ID ? kmsCipher(env.CREDENTIALS_KMS_KEY_ID) : localCipher(env.CREDENTIALS_LOCAL_KEY!),
    clock: { now: () => new Date() },
    fetch: (...args) => fetch(...args),
    publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/$/, ''),
  };
  return built;
}

onConfigReset(() => {
  built = undefined;
});
