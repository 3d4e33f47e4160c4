import { describe, expect, it } from 'vitest';
import { EVENT_CONTRACTS } from '../events/registry';
import { METRICS } from '../metrics/catalog';
import { canonicalJson, contractJsonSchema, snapshotPath } from './json-schema';
import { renderCatalogue } from './markdown';
import { ordersV2 } from '../events/shop-orders';

describe('the contract catalogue', () => {
  it('emits a closed JSON Schema per version with the contract metadata', () => {
    const schema = contractJsonSchema(ordersV2) as Record<string, unknown> & { required: string[] };
    expect(schema.title).toBe('shop.orders v2');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).not.toContain('channel');
    expect(schema.required).toContain('currency');
    expect(schema['x-tidemark-pii']).toEqual(['customer_id']);
    expect(snapshotPath(ordersV2)).toBe('shop.orders/v2.json');
  });

  it('writes canonical JSON with sorted keys', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      2,\n      {\n        "e": 0,\n        "f": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('lists every contract version and metric in Markdown', () => {
    const markdown = renderCatalogue(EVENT_CONTRACTS, METRICS);
    expect(markdown).toContain('### shop.orders v2');
    expect(markdown).toContain('| channel | no |  |');
    expect(markdown).toContain(
      '| payment_failure_rate | shop.payments v1 | method | avg(status eq "failed" ? 1 : 0) | - | hopping 5 min every 1 min | 10 min | on window close | payments-team |',
    );
  });
});
