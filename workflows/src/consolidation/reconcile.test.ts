import { describe, expect, it } from 'vitest';
import { causeOf, sameValue } from './reconcile';

const window = { provisional: 10, final: 10, lateReasons: [], deadLettered: false };

describe('causeOf', () => {
  it('is exact when both sides agree, an empty window included', () => {
    expect(causeOf(window)).toBe('exact');
    expect(causeOf({ ...window, provisional: 0, final: null })).toBe('exact');
    expect(causeOf({ ...window, provisional: 1 / 3, final: 0.333333333333333 })).toBe('exact');
  });

  it('names the late ledger first, then replayed dead letters, else unexplained', () => {
    expect(
      causeOf({
        ...window,
        final: 12,
        lateReasons: ['changed_after_close', 'late_beyond_lateness'],
      }),
    ).toBe('late_beyond_lateness');
    expect(causeOf({ ...window, final: 12, lateReasons: ['changed_after_close'] })).toBe(
      'changed_after_close',
    );
    expect(causeOf({ ...window, provisional: null, final: 3, deadLettered: true })).toBe(
      'dead_lettered',
    );
    expect(causeOf({ ...window, final: 11 })).toBe('unexplained');
  });
});

describe('sameValue', () => {
  it('treats null only as equal to null', () => {
    expect(sameValue(null, null)).toBe(true);
    expect(sameValue(null, 0)).toBe(false);
    expect(sameValue(5, 5.0001)).toBe(false);
  });
});
