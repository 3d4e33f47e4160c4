import { checkCompatibility, checkHistory } from '../compat';
import type { EventContract } from '../events/contract';
import {
  canonicalJson,
  contractJsonSchema,
  snapshotPath,
  type JsonSchemaDocument,
} from './json-schema';

export const CONTRACT_CHECK_RULES = [
  'SNAPSHOT_MISSING',
  'PUBLISHED_VERSION_CHANGED',
  'VERSION_GAP',
  'INCOMPATIBLE_CHANGE',
] as const;
export type ContractCheckRule = (typeof CONTRACT_CHECK_RULES)[number];

/** One problem `tidemark contracts check` found, naming the version, the field and the rule. */
export interface ContractFinding {
  contract: string;
  rule: ContractCheckRule;
  pointer: string;
  message: string;
}

/**
 * Checks every contract's versions in order: each against its committed snapshot (published
 * versions are immutable) and each new version against the earlier ones under the mode it
 * declares. `snapshotOf` returns a committed snapshot, or undefined when there is none.
 */
export function checkContracts(
  contracts: readonly EventContract[],
  snapshotOf: (path: string) => JsonSchemaDocument | undefined,
): ContractFinding[] {
  const findings: ContractFinding[] = [];
  const tables = [...new Set(contracts.map((contract) => contract.table))];
  for (const table of tables) {
    const versions = contracts
      .filter((contract) => contract.table === table)
      .sort((a, b) => a.version - b.version);
    const emitted: JsonSchemaDocument[] = [];
    versions.forEach((contract, index) => {
      const name = `${contract.table} v${contract.version}`;
      if (contract.version !== index + 1) {
        findings.push({
          contract: name,
          rule: 'VERSION_GAP',
          pointer: '',
          message: `${name} follows v${index}: versions are numbered 1, 2, 3, ... without gaps`,
        });
      }
      const schema = contractJsonSchema(contract);
      const path = snapshotPath(contract);
      const snapshot = snapshotOf(path);
      if (!snapshot) {
        findings.push({
          contract: name,
          rule: 'SNAPSHOT_MISSING',
          pointer: '',
          message: `${name} has no committed snapshot schemas/${path}: run \`tidemark contracts export\` and commit it`,
        });
      } else if (canonicalJson(snapshot) !== canonicalJson(schema)) {
        const changes = checkCompatibility(snapshot, schema, 'FULL').changes;
        const where = changes.map((change) => change.pointer).join(', ') || 'its metadata';
        findings.push({
          contract: name,
          rule: 'PUBLISHED_VERSION_CHANGED',
          pointer: changes[0]?.pointer ?? '',
          message: `${name} differs from its committed snapshot at ${where}: a published version never changes; add v${versions.length + 1} instead`,
        });
      }
      if (emitted.length > 0) {
        const report = checkHistory(emitted, schema, contract.compatibility);
        for (const change of report.changes.filter((candidate) => candidate.breaks)) {
          findings.push({
            contract: name,
            rule: 'INCOMPATIBLE_CHANGE',
            pointer: change.pointer,
            message: `${name} breaks ${contract.compatibility} at ${change.pointer}: ${change.message} (${change.rule})`,
          });
        }
      }
      emitted.push(schema);
    });
  }
  return findings;
}
