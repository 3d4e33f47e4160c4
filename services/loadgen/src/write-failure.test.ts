import { describe, expect, it } from 'vitest';
import { writeFailure } from './runner';

// A load must tell a source that went away (retry when it is back) from a plan the database
// refuses (a defect): `npm run chaos` restarts its load on the first kind only.

describe('writeFailure', () => {
  it('calls the server or the connection going away retriable, with or without a code', () => {
    const failures = [
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('COMMIT; - Client has encountered a connection error and is not queryable'),
    ];
    for (const failure of failures) {
      const error = writeFailure(failure, undefined);
      expect(error.retriable, failure.message).toBe(true);
      expect(error.code).toBe('CONNECT_UNAVAILABLE');
    }
  });

  it('calls a refused statement a bad input, not retriable', () => {
    const error = writeFailure(
      Object.assign(new Error('relation "shop.orders" does not exist'), { code: '42P01' }),
      undefined,
    );
    expect(error.retriable).toBe(false);
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('npx tidemark migrate');
  });
});
