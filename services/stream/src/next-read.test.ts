import { describe, expect, it } from 'vitest';
import { nextRead } from './next-read';

describe('nextRead', () => {
  it('reads on after an applied batch', () => {
    expect(nextRead({ kind: 'applied' }, 10n, undefined)).toEqual({ kind: 'read_on' });
  });

  it('records the offsets Kafka deleted when the batch starts past the stored one', () => {
    expect(nextRead({ kind: 'gap', expected: 5n }, 20n, 12n)).toEqual({
      kind: 'skip_deleted',
      missingFrom: 5n,
      missingUntil: 12n,
    });
  });

  it('goes back to the stored offset when Kafka still has it', () => {
    expect(nextRead({ kind: 'gap', expected: 5n }, 20n, 5n)).toMatchObject({
      kind: 'seek',
      offset: 5n,
      level: 'warn',
    });
    expect(() => nextRead({ kind: 'gap', expected: 5n }, 20n, undefined)).toThrow(/earliest/);
  });

  it('skips ahead to the stored offset when the batch was applied before and ends short of it', () => {
    expect(nextRead({ kind: 'seen', expected: 100n }, 20n, undefined)).toMatchObject({
      kind: 'seek',
      offset: 100n,
      level: 'info',
    });
    // The stored offset is just after the batch: reading on reaches it.
    expect(nextRead({ kind: 'seen', expected: 21n }, 20n, undefined)).toEqual({ kind: 'read_on' });
    expect(nextRead({ kind: 'seen', expected: undefined }, 20n, undefined)).toEqual({
      kind: 'read_on',
    });
  });
});
