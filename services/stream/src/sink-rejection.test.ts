import { describe, expect, it } from 'vitest';
import {
  applyRejectingRefused,
  describeSinkError,
  firstRejectedMessage,
  mayBeContentError,
} from './sink-rejection';

/** A batch whose messages at `bad` make any prefix holding them fail. */
function batchFailingAt(bad: readonly number[]) {
  const tried: number[] = [];
  const failureOf = (count: number) => {
    tried.push(count);
    const first = bad.find((index) => index < count);
    return Promise.resolve(first === undefined ? undefined : new Error(`bad ${first}`));
  };
  return { failureOf, tried };
}

describe('firstRejectedMessage', () => {
  it.each([0, 1, 7, 4_799])('finds the message at %i of 4,800 in a few tries', async (index) => {
    const { failureOf, tried } = batchFailingAt([index]);
    const found = await firstRejectedMessage(4_800, failureOf);
    expect(found).toMatchObject({ index, error: new Error(`bad ${index}`) });
    expect(tried.length).toBeLessThanOrEqual(15);
  });

  it('blames no message when even an empty prefix fails: the warehouse is the problem', async () => {
    const failureOf = () => Promise.resolve(new Error('connection refused'));
    expect(await firstRejectedMessage(100, failureOf)).toBeUndefined();
  });

  it('finds the first of several', async () => {
    const { failureOf } = batchFailingAt([900, 30, 2_000]);
    expect((await firstRejectedMessage(4_800, failureOf))?.index).toBe(30);
  });

  it('finds nothing when the whole batch applies now', async () => {
    const { failureOf, tried } = batchFailingAt([]);
    expect(await firstRejectedMessage(10, failureOf)).toBeUndefined();
    expect(tried).toEqual([10]);
  });
});

describe('mayBeContentError', () => {
  it('suspects the content for data and constraint errors, and for our own exceptions', () => {
    expect(mayBeContentError({ code: '22P05' })).toBe(true); // untranslatable character
    expect(mayBeContentError({ code: '23502' })).toBe(true); // not-null violation
    expect(mayBeContentError({ code: '54001' })).toBe(true); // stack depth limit exceeded
    expect(mayBeContentError(new TypeError('x.find is not a function'))).toBe(true);
  });

  it('blames the connection, the server or a conflict otherwise', () => {
    for (const code of ['08006', '40P01', '53300', '57P01', '57014', 'XX000', 'ECONNRESET']) {
      expect(mayBeContentError({ code })).toBe(false);
    }
    expect(mayBeContentError(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});

describe('describeSinkError', () => {
  it('gives the message and the SQLSTATE', () => {
    expect(describeSinkError({ message: 'invalid input', code: '22P02' })).toBe(
      'invalid input (SQLSTATE 22P02)',
    );
  });
});

describe('applyRejectingRefused', () => {
  /** A batch of `length` messages whose `bad` ones the warehouse refuses with `error`. */
  function warehouseRefusing(length: number, bad: number[], error: unknown) {
    const refused = new Set(bad);
    const rejected: number[] = [];
    let commits = 0;
    const failureOf = (count: number) =>
      [...refused].some((index) => index < count) ? error : undefined;
    return {
      rejected,
      commits: () => commits,
      batch: {
        length,
        apply: (count: number) => {
          const failure = failureOf(count);
          if (failure) return Promise.reject(failure);
          commits += 1;
          return Promise.resolve(`applied ${count}`);
        },
        tryPrefix: (count: number) => Promise.resolve(failureOf(count)),
        reject: (index: number) => {
          rejected.push(index);
          refused.delete(index);
        },
      },
    };
  }
  const dataError = Object.assign(new Error('invalid input syntax'), { code: '22P02' });

  it('rejects each refused message, in order, and commits the rest once', async () => {
    const warehouse = warehouseRefusing(100, [70, 12], dataError);
    await expect(applyRejectingRefused(warehouse.batch)).resolves.toBe('applied 100');
    expect(warehouse.rejected).toEqual([12, 70]);
    expect(warehouse.commits()).toBe(1);
  });

  it('rejects nothing and throws when the warehouse itself fails', async () => {
    const down = Object.assign(new Error('terminating connection'), { code: '57P01' });
    const warehouse = warehouseRefusing(10, [3], down);
    await expect(applyRejectingRefused(warehouse.batch)).rejects.toBe(down);
    expect(warehouse.rejected).toEqual([]);
  });

  it('throws the first error when no prefix fails any more (the failure passed)', async () => {
    let calls = 0;
    const batch = {
      length: 5,
      apply: () => (calls++ === 0 ? Promise.reject(dataError) : Promise.resolve('late')),
      tryPrefix: () => Promise.resolve(undefined),
      reject: () => {
        throw new Error('nothing should be rejected');
      },
    };
    await expect(applyRejectingRefused(batch)).rejects.toBe(dataError);
  });
});
