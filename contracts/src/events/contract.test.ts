import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineEventContract } from './contract';

describe('defineEventContract', () => {
  it('refuses a contract naming fields its row does not have', () => {
    expect(() =>
      defineEventContract({
        table: 'shop.things',
        version: 1,
        row: z.object({ id: z.string() }),
        primaryKey: ['id'],
        eventTimeField: 'created_at',
        idempotencyKey: ['id'],
        owner: 'team',
        piiFields: ['email'],
        compatibility: 'BACKWARD',
      }),
    ).toThrow('shop.things v1 names fields its row does not have: created_at, email');
  });
});
