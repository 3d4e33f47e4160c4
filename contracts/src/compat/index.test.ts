import { describe, expect, it } from 'vitest';
import { contractJsonSchema } from '../catalogue/json-schema';
import { EVENT_CONTRACTS } from '../events/registry';
import { ordersV1, ordersV2 } from '../events/shop-orders';
import {
  checkCompatibility,
  checkHistory,
  COMPATIBILITY_MODES,
  parseCompatibilityMode,
} from './index';

const currency = (values: string[]) => ({
  type: 'object',
  properties: { currency: { type: 'string', enum: values } },
  required: ['currency'],
});

describe('the real contracts', () => {
  const v1 = contractJsonSchema(ordersV1);
  const v2 = contractJsonSchema(ordersV2);

  it('roll orders v1 forward to v2 under BACKWARD: v2 only adds an optional field', () => {
    const report = checkCompatibility(v1, v2, 'BACKWARD');
    expect(report.compatible).toBe(true);
    expect(report.changes).toEqual([
      expect.objectContaining({
        pointer: '/properties/channel',
        rule: 'PROPERTY_ADDED',
        breaksBackward: false,
        breaksForward: true,
        breaks: false,
      }),
    ]);
  });

  it('are not FORWARD compatible: v1 is closed, so consumers on v1 reject a channel', () => {
    expect(checkCompatibility(v1, v2, 'FORWARD').compatible).toBe(false);
    expect(checkCompatibility(v1, v2, 'FULL').compatible).toBe(false);
  });

  it('would break BACKWARD going back from v2 to v1', () => {
    expect(checkCompatibility(v2, v1, 'BACKWARD').compatible).toBe(false);
  });

  it('each hold to its declared mode against the versions before it', () => {
    for (const contract of EVENT_CONTRACTS) {
      const earlier = EVENT_CONTRACTS.filter(
        (other) => other.table === contract.table && other.version < contract.version,
      ).map(contractJsonSchema);
      const report = checkHistory(earlier, contractJsonSchema(contract), contract.compatibility);
      expect({ contract: `${contract.table} v${contract.version}`, ...report }).toMatchObject({
        compatible: true,
      });
    }
  });

  it('compare equal to themselves under every mode', () => {
    for (const mode of COMPATIBILITY_MODES) {
      expect(checkCompatibility(v2, structuredClone(v2), mode)).toEqual({
        mode,
        compatible: true,
        changes: [],
      });
    }
  });
});

describe('checkHistory', () => {
  // v2 dropped GBP while the subject was FORWARD; v3 adds CHF and is fine next to v2 alone.
  const v1 = currency(['EUR', 'USD', 'GBP']);
  const v2 = currency(['EUR', 'USD']);
  const v3 = currency(['EUR', 'USD', 'CHF']);

  it('compares with the latest version only under a non-transitive mode', () => {
    expect(checkCompatibility(v1, v2, 'FORWARD').compatible).toBe(true);
    expect(checkCompatibility(v2, v3, 'BACKWARD').compatible).toBe(true);
    const report = checkHistory([v1, v2], v3, 'BACKWARD');
    expect(report.compatible).toBe(true);
    expect(report.changes.map((change) => change.againstVersionIndex)).toEqual([1]);
  });

  it('compares with every earlier version under a _TRANSITIVE mode', () => {
    const report = checkHistory([v1, v2], v3, 'BACKWARD_TRANSITIVE');
    expect(report.compatible).toBe(false);
    expect(report.changes.filter((change) => change.breaks)).toEqual([
      expect.objectContaining({
        againstVersionIndex: 0,
        rule: 'ENUM_VALUE_REMOVED',
        pointer: '/properties/currency/enum',
        message: expect.stringContaining('"GBP"'),
      }),
    ]);
  });

  it.each([
    // v2 was accepted while the subject was BACKWARD; v3 equals v2 but is new data to v1's readers.
    { mode: 'FORWARD', history: [['EUR'], ['EUR', 'USD']], next: ['EUR', 'USD'] },
    { mode: 'FULL', history: [['EUR', 'USD'], ['EUR']], next: ['EUR'] },
  ] as const)('does the same for $mode and its _TRANSITIVE form', ({ mode, history, next }) => {
    const earlier = history.map((values) => currency([...values]));
    expect(checkHistory(earlier, currency([...next]), mode).compatible).toBe(true);
    const transitive = checkHistory(earlier, currency([...next]), `${mode}_TRANSITIVE`);
    expect(transitive.compatible).toBe(false);
    expect(transitive.changes.filter((change) => change.breaks)[0]?.againstVersionIndex).toBe(0);
  });

  it('is transitive itself where every step is compatible: an open model cannot drop and re-add', () => {
    // The Avro trick (drop a field, re-add it with another type) fails here at the re-add: an
    // open content model accepted any value under the dropped name.
    const v1open = { type: 'object', properties: { amount: { type: 'string' } } };
    const v2open = { type: 'object', properties: {} };
    const v3open = { type: 'object', properties: { amount: { type: 'integer' } } };
    expect(checkCompatibility(v1open, v2open, 'BACKWARD').compatible).toBe(true);
    expect(checkCompatibility(v2open, v3open, 'BACKWARD').compatible).toBe(false);
    expect(checkHistory([v1open, v2open], v3open, 'BACKWARD_TRANSITIVE').compatible).toBe(false);
  });

  it('is compatible with an empty history, and NONE never breaks but still reports', () => {
    expect(checkHistory([], v3, 'FULL_TRANSITIVE')).toEqual({
      mode: 'FULL_TRANSITIVE',
      compatible: true,
      changes: [],
    });
    const report = checkHistory([v1], { type: 'integer' }, 'NONE');
    expect(report.compatible).toBe(true);
    expect(report.changes.length).toBeGreaterThan(0);
    expect(report.changes.every((change) => !change.breaks)).toBe(true);
  });
});

describe('parseCompatibilityMode', () => {
  it('reads every mode and forgives case and dashes', () => {
    for (const mode of COMPATIBILITY_MODES) expect(parseCompatibilityMode(mode)).toBe(mode);
    expect(parseCompatibilityMode('full-transitive')).toBe('FULL_TRANSITIVE');
    expect(parseCompatibilityMode(' backward ')).toBe('BACKWARD');
  });

  it('rejects anything else', () => {
    expect(parseCompatibilityMode('SIDEWAYS')).toBeUndefined();
    expect(parseCompatibilityMode('')).toBeUndefined();
  });
});
