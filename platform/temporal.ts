import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { customSearchAttributes } from '../workflows/search-attributes.js';

export interface TemporalClientOptions {
  address: string;
  namespace: string;
}

export async function connectTemporalClient(options: TemporalClientOptions): Promise<Client> {
  const connection = await Connection.connect({ address: options.address });
  return new Client({ connection, namespace: options.namespace });
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
const indexedValueType: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/**
 * Registers any of our search attributes the server lacks: an SQLite file from an older version, a test
 * server (which knows none of them), or a cluster set up by hand.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  let known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    known = new Set(Object.keys(existing.customAttributes ?? {}));
  } catch (err) {
    // The time-skipping test server cannot list them (gRPC UNIMPLEMENTED); it accepts adding them.
    if ((err as { code?: number }).code !== 12) throw err;
  }
  const missing = customSearchAttributes.filter((a) => !known.has(a.name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((a) => [a.name, indexedValueType[a.cliType]!])),
  });
}
