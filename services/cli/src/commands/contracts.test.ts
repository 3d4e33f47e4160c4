import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractsCheck, contractsCompat, SCHEMAS_DIR } from './contracts';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-compat-'));
function schemaFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const V1 = {
  type: 'object',
  properties: { id: { type: 'string' }, amount: { type: 'integer' } },
  required: ['id', 'amount'],
  additionalProperties: false,
};
const V2_NULLABLE_FIELD = {
  ...V1,
  properties: { ...V1.properties, channel: { type: ['string', 'null'] } },
};
const V2_REQUIRED_FIELD = { ...V2_NULLABLE_FIELD, required: ['id', 'amount', 'channel'] };

function run(args: { previous?: string; next?: string; mode?: string; json?: boolean }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = contractsCompat(
    { json: false, ...args },
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tidemark contracts compat', () => {
  it('exits 0 when adding a nullable, optional field under BACKWARD', () => {
    const result = run({
      previous: schemaFile('v1.json', V1),
      next: schemaFile('v2.json', V2_NULLABLE_FIELD),
      mode: 'BACKWARD',
    });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^compatible under BACKWARD/);
  });

  it('exits 1 and names the field when the new field is required', () => {
    const result = run({
      previous: schemaFile('v1.json', V1),
      next: schemaFile('v2r.json', V2_REQUIRED_FIELD),
      mode: 'BACKWARD',
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^INCOMPATIBLE under BACKWARD/);
    expect(result.out).toContain('channel');
  });

  it('prints the report as JSON with --json', () => {
    const result = run({
      previous: schemaFile('v1.json', V1),
      next: schemaFile('v2r.json', V2_REQUIRED_FIELD),
      mode: 'FORWARD',
      json: true,
    });
    const report = JSON.parse(result.out) as {
      mode: string;
      compatible: boolean;
      changes: unknown[];
    };
    expect(report.mode).toBe('FORWARD');
    expect(report.changes.length).toBeGreaterThan(0);
  });

  it('exits 2 naming an unreadable file, bad JSON, an invalid schema and an unknown mode', () => {
    const good = schemaFile('v1.json', V1);
    expect(run({ previous: join(dir, 'missing.json'), next: good })).toMatchObject({
      code: 2,
      err: expect.stringContaining('cannot read'),
    });
    expect(run({ previous: schemaFile('broken.json', '{"type":'), next: good })).toMatchObject({
      code: 2,
      err: expect.stringContaining('is not JSON'),
    });
    expect(run({ previous: schemaFile('bad.json', { type: 'strng' }), next: good })).toMatchObject({
      code: 2,
      err: expect.stringContaining('is not a valid JSON Schema'),
    });
    expect(run({ previous: good, next: good, mode: 'SIDEWAYS' })).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown mode "SIDEWAYS"'),
    });
  });
});

describe('tidemark contracts compat on the committed snapshots', () => {
  const previous = join(SCHEMAS_DIR, 'shop.orders', 'v1.json');
  const next = join(SCHEMAS_DIR, 'shop.orders', 'v2.json');

  it('accepts orders v2 under BACKWARD and refuses it under FORWARD (v1 is closed)', () => {
    expect(run({ previous, next, mode: 'BACKWARD' })).toMatchObject({ code: 0 });
    const forward = run({ previous, next, mode: 'FORWARD' });
    expect(forward.code).toBe(1);
    expect(forward.out).toContain('/properties/channel  PROPERTY_ADDED');
  });
});

describe('tidemark contracts check', () => {
  it('passes on the committed contracts and snapshots', () => {
    const out: string[] = [];
    expect(contractsCheck((line) => out.push(line))).toBe(0);
    expect(out).toContain('ok    shop.orders v2 (BACKWARD)');
    expect(out).toContain('ok    metric payment_failure_rate on shop.payments v1');
  });
});
