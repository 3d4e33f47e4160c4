/** An order row as Debezium writes its timestamps (microseconds, UTC). */
export interface EnvelopeOrder {
  id: string;
  customer_id: string;
  amount_minor: number;
  currency: string;
  status: string;
  createdAtMs: number;
}

/**
 * A Debezium insert of shop.orders as the connector writes it (schemaless JSON), for tests that
 * put a message where the connector would have: a dead letter's bytes, or a topic of their own.
 */
export function orderInsertEnvelope(order: EnvelopeOrder, lsn: number, txId: number): Buffer {
  const time = new Date(order.createdAtMs).toISOString().replace('Z', '000Z');
  const { createdAtMs: _createdAtMs, ...fields } = order;
  const envelope = {
    before: null,
    after: { ...fields, created_at: time, updated_at: time, channel: 'web' },
    source: {
      version: '3.2.3.Final',
      connector: 'postgresql',
      name: 'tidemark',
      ts_ms: Date.now(),
      snapshot: 'false',
      db: 'source',
      schema: 'shop',
      table: 'orders',
      txId,
      lsn,
    },
    op: 'c',
    ts_ms: Date.now(),
  };
  return Buffer.from(JSON.stringify(envelope));
}
