import { describe, expect, it } from 'vitest';
import { isRetriableConflict, withConflictRetry } from './transaction-retry';

const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });

describe('withConflictRetry', () => {
  it('runs a transaction aborted by a deadlock again', async () => {
    let runs = 0;
    const retried: unknown[] = [];
    const result = await withConflictRetry(
      async () => {
        runs += 1;
        if (runs < 3) throw deadlock;
        return 'committed';
      },
      { baseDelayMs: 1, onRetry: (error) => retried.push(error) },
    );
    expect(result).toBe('committed');
    expect(runs).toBe(3);
    expect(retried).toHaveLength(2);
  });

  it('gives up after its attempts, and never retries other errors', async () => {
    let runs = 0;
    await expect(
      withConflictRetry(
        async () => {
          runs += 1;
          throw deadlock;
        },
        { attempts: 2, baseDelayMs: 1 },
      ),
    ).rejects.toBe(deadlock);
    expect(runs).toBe(2);
    const broken = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(withConflictRetry(async () => Promise.reject(broken))).rejects.toBe(broken);
    expect(isRetriableConflict({ code: '40001' })).toBe(true);
    expect(isRetriableConflict(new Error('x'))).toBe(false);
  });
});
