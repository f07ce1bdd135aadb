import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tableDefinition } from '../../shared/adapters/dynamodb/table.js';

/** The single table plus the key that seals gateway credentials. */
export class DataStore extends Construct {
  readonly table: Table;
  /** Handlers call kms:Encrypt/Decrypt with it directly (credentials are < 4 KB). */
  readonly credentialsKey: Key;
  /** HMAC key: its MAC of a fixed message is the list-cursor signing key (one GenerateMac per cold start). */
  readonly cursorKey: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Data outlives a stack deletion: keys are retained along with the table they protect.
    const tableKey = new Key(this, 'TableKey', {
      description: 'ispnotify: encrypts the DynamoDB table at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.credentialsKey = new Key(this, 'CredentialsKey', {
      description: 'ispnotify: seals SMS/e-mail gateway credentials stored in DynamoDB',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // KMS rotates only symmetric encryption keys; rotating this one would only invalidate open cursors.
    this.cursorKey = new Key(this, 'CursorKey', {
      description: 'ispnotify: signs list cursors (HMAC)',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const string = (name: string) => ({ name, type: AttributeType.STRING });
    this.table = new Table(this, 'Table', {
      partitionKey: string(tableDefinition.partitionKey),
      sortKey: string(tableDefinition.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: tableKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Broadcast counters follow the messages' changes (lib/constructs/stream-consumers.ts): old and new images say how each moved.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });
    for (const index of tableDefinition.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: index.projection === 'KEYS_ONLY' ? ProjectionType.KEYS_ONLY : ProjectionType.ALL,
      });
    }
  }
}
