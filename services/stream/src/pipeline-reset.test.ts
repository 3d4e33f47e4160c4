import { describe, expect, it } from 'vitest';
import { groupDeletionOutcome } from './pipeline-reset';

const failure = (...codes: number[]) => ({
  groups: codes.map((errorCode) => ({ groupId: 'p', errorCode })),
});

describe('what a failed deletion of a pipeline consumer group means', () => {
  it('counts a group the broker no longer knows as deleted', () => {
    expect(groupDeletionOutcome(failure(69))).toBe('deleted');
  });

  it('asks again while members remain or the coordinator moves', () => {
    for (const code of [68, 14, 15, 16]) expect(groupDeletionOutcome(failure(code))).toBe('retry');
  });

  it('gives up on any other answer, such as a refused authorization', () => {
    expect(groupDeletionOutcome(failure(30))).toBe('failed');
    expect(groupDeletionOutcome(failure(68, 30))).toBe('failed');
  });

  it('gives up on an error that names no group', () => {
    expect(groupDeletionOutcome(new Error('connection closed'))).toBe('failed');
  });
});
