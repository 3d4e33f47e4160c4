import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineEventContract, type EventContract } from '../events/contract';
import { checkContracts } from './check';
import { contractJsonSchema, snapshotPath, type JsonSchemaDocument } from './json-schema';

const thingsV1 = defineEventContract({
  table: 'test.things',
  version: 1,
  row: z.strictObject({ id: z.string(), size: z.int() }),
  primaryKey: ['id'],
  eventTimeField: 'id',
  idempotencyKey: ['id'],
  owner: 'test',
  piiFields: [],
  compatibility: 'BACKWARD',
});
const thingsV2 = defineEventContract({
  ...thingsV1,
  version: 2,
  row: z.strictObject({ id: z.string(), size: z.int(), colour: z.string().nullish() }),
});

function snapshotsOf(contracts: readonly EventContract[]) {
  const snapshots = new Map<string, JsonSchemaDocument>(
    contracts.map((contract) => [snapshotPath(contract), contractJsonSchema(contract)]),
  );
  return (path: string) => snapshots.get(path);
}

describe('checkContracts', () => {
  it('passes versions that match their snapshots and their declared mode', () => {
    expect(checkContracts([thingsV1, thingsV2], snapshotsOf([thingsV1, thingsV2]))).toEqual([]);
  });

  it('fails a new version that breaks the mode, naming the field and the rule', () => {
    const breaking = defineEventContract({
      ...thingsV2,
      row: z.strictObject({ id: z.string(), size: z.int(), colour: z.string() }),
    });
    const findings = checkContracts([thingsV1, breaking], snapshotsOf([thingsV1, breaking]));
    expect(findings).toEqual([
      {
        contract: 'test.things v2',
        rule: 'INCOMPATIBLE_CHANGE',
        pointer: '/required',
        message: expect.stringMatching(
          /breaks BACKWARD at \/required: "colour" is now required.*\(REQUIRED_ADDED\)/,
        ),
      },
    ]);
  });

  it('checks every earlier version under a _TRANSITIVE mode', () => {
    const v1 = defineEventContract({ ...thingsV1, compatibility: 'BACKWARD_TRANSITIVE' });
    // v2 narrows size (published while the subject was NONE); v3 is fine next to v2 alone.
    const v2 = defineEventContract({
      ...v1,
      version: 2,
      compatibility: 'NONE',
      row: z.strictObject({ id: z.string(), size: z.int().max(10) }),
    });
    const v3 = defineEventContract({
      ...v1,
      version: 3,
      row: z.strictObject({ id: z.string(), size: z.int().max(10) }),
    });
    const findings = checkContracts([v1, v2, v3], snapshotsOf([v1, v2, v3]));
    expect(findings.map((finding) => [finding.contract, finding.rule, finding.pointer])).toEqual([
      ['test.things v3', 'INCOMPATIBLE_CHANGE', '/properties/size/maximum'],
    ]);
  });

  it('fails a published version that no longer matches its snapshot, or has none', () => {
    const edited = defineEventContract({
      ...thingsV1,
      row: z.strictObject({ id: z.string(), size: z.int().min(1) }),
    });
    expect(checkContracts([edited], snapshotsOf([thingsV1]))).toEqual([
      expect.objectContaining({
        rule: 'PUBLISHED_VERSION_CHANGED',
        pointer: '/properties/size/minimum',
      }),
    ]);
    expect(checkContracts([thingsV1], () => undefined)).toEqual([
      expect.objectContaining({ rule: 'SNAPSHOT_MISSING' }),
    ]);
  });

  it('fails a gap in the version numbers', () => {
    const v3 = defineEventContract({ ...thingsV2, version: 3 });
    expect(checkContracts([thingsV1, v3], snapshotsOf([thingsV1, v3]))).toEqual([
      expect.objectContaining({ contract: 'test.things v3', rule: 'VERSION_GAP' }),
    ]);
  });
});
