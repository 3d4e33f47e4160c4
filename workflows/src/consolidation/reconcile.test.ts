import { describe, expect, it } from 'vitest';
import { sameValue } from './reconcile';

describe('sameValue', () => {
  it('treats null only as equal to null, and floating-point noise as equal', () => {
    expect(sameValue(null, null)).toBe(true);
    expect(sameValue(null, 0)).toBe(false);
    expect(sameValue(5, 5.0001)).toBe(false);
    expect(sameValue(1 / 3, 0.333333333333333)).toBe(true);
  });
});
