import {
  canonicalJson,
  checkCompatibility,
  checkContracts,
  COMPATIBILITY_MODES,
  contractJsonSchema,
  EVENT_CONTRACTS,
  METRICS,
  parseCompatibilityMode,
  renderCatalogue,
  snapshotPath,
  validateJsonSchema,
  type CompatibilityReport,
  type JsonSchemaDocument,
} from '@tidemark/contracts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../paths';
import { renderTable } from '../table';

/** Exit codes of the contracts commands: 0 fine, 1 incompatible or failing, 2 bad input. */
export const EXIT = { ok: 0, incompatible: 1, badInput: 2 } as const;

export const SCHEMAS_DIR = join(REPO_ROOT, 'contracts', 'schemas');
export const CATALOGUE_FILE = join(REPO_ROOT, 'contracts', 'CATALOG.md');

type Print = (line: string) => void;

/** Bad input to a contracts command; the message names what is wrong. */
class BadInput extends Error {}

function readSchemaFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BadInput(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new BadInput(`${path} is not JSON: ${(error as Error).message}`);
  }
  const problems = validateJsonSchema(document);
  if (problems.length > 0) {
    const listed = problems
      .map((problem) => `  ${problem.pointer || '/'}: ${problem.message}`)
      .join('\n');
    throw new BadInput(`${path} is not a valid JSON Schema:\n${listed}`);
  }
  return document;
}

/** `tidemark contracts compat <previous.json> <next.json> --mode M [--json]`. */
export function contractsCompat(
  args: { previous?: string; next?: string; mode?: string; json: boolean },
  print: Print,
  printError: Print,
): number {
  try {
    if (!args.previous || !args.next)
      throw new BadInput(
        'usage: tidemark contracts compat <previous.json> <next.json> --mode BACKWARD [--json]',
      );
    const mode = parseCompatibilityMode(args.mode ?? 'BACKWARD');
    if (!mode) {
      throw new BadInput(
        `unknown mode "${args.mode}": use one of ${COMPATIBILITY_MODES.join(', ')}`,
      );
    }
    const report = checkCompatibility(
      readSchemaFile(args.previous) as JsonSchemaDocument,
      readSchemaFile(args.next) as JsonSchemaDocument,
      mode,
    );
    if (args.json) print(JSON.stringify(report, null, 2));
    else printCompatReport(report, print);
    return report.compatible ? EXIT.ok : EXIT.incompatible;
  } catch (error) {
    if (error instanceof BadInput) {
      printError(`tidemark contracts compat: ${error.message}`);
      return EXIT.badInput;
    }
    throw error;
  }
}

function printCompatReport(report: CompatibilityReport, print: Print): void {
  print(
    `${report.compatible ? 'compatible' : 'INCOMPATIBLE'} under ${report.mode} (${report.changes.length} change(s))`,
  );
  if (report.changes.length === 0) return;
  print('');
  print(
    renderTable(
      ['breaks', 'pointer', 'rule', 'change'],
      report.changes.map((change) => [
        change.breaks ? 'yes' : 'no',
        change.pointer || '/',
        change.rule,
        change.message,
      ]),
    ),
  );
}

function readSnapshot(path: string): JsonSchemaDocument | undefined {
  const file = join(SCHEMAS_DIR, path);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as JsonSchemaDocument;
}

/** `tidemark contracts check`: versions against snapshots and each other, metrics against contracts. */
export function contractsCheck(print: Print): number {
  const findings = checkContracts(EVENT_CONTRACTS, readSnapshot);
  for (const contract of EVENT_CONTRACTS) {
    const failed = findings.filter(
      (finding) => finding.contract === `${contract.table} v${contract.version}`,
    );
    print(
      `${failed.length === 0 ? 'ok  ' : 'FAIL'}  ${contract.table} v${contract.version} (${contract.compatibility})`,
    );
    for (const finding of failed) print(`      ${finding.rule}: ${finding.message}`);
  }
  // Metric definitions are validated against their source contracts when they are defined.
  for (const metric of METRICS) {
    print(
      `ok    metric ${metric.name} on ${metric.source.table} v${metric.source.contractVersion}`,
    );
  }
  return findings.length === 0 ? EXIT.ok : EXIT.incompatible;
}

/**
 * `tidemark contracts export [--force]`: writes each version's JSON Schema and the Markdown
 * catalogue. A committed snapshot that differs is not overwritten without --force: published
 * versions are immutable, and `contracts check` relies on the snapshots to prove it.
 */
export function contractsExport(args: { force: boolean }, print: Print, printError: Print): number {
  let refused = 0;
  for (const contract of EVENT_CONTRACTS) {
    const path = snapshotPath(contract);
    const file = join(SCHEMAS_DIR, path);
    const text = canonicalJson(contractJsonSchema(contract));
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current === text) {
      print(`unchanged  schemas/${path}`);
      continue;
    }
    if (current !== undefined && !args.force) {
      printError(
        `refused    schemas/${path}: the published snapshot differs; add a new version (or --force)`,
      );
      refused += 1;
      continue;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    print(`wrote      schemas/${path}`);
  }
  writeFileSync(CATALOGUE_FILE, renderCatalogue(EVENT_CONTRACTS, METRICS));
  print('wrote      CATALOG.md');
  return refused === 0 ? EXIT.ok : EXIT.incompatible;
}

/** `tidemark contracts <check|compat|export>`; returns the exit code. */
export function contractsCommand(
  args: { subcommand?: string; files: string[]; mode?: string; json: boolean; force: boolean },
  print: Print,
  printError: Print,
): number {
  switch (args.subcommand) {
    case 'check':
      return contractsCheck(print);
    case 'compat':
      if (args.files.length > 2) {
        printError(`tidemark contracts compat: expected two files, got ${args.files.length}`);
        return EXIT.badInput;
      }
      return contractsCompat(
        { previous: args.files[0], next: args.files[1], mode: args.mode, json: args.json },
        print,
        printError,
      );
    case 'export':
      return contractsExport({ force: args.force }, print, printError);
    default:
      printError(
        `tidemark contracts: expected "check", "compat" or "export", got ${JSON.stringify(args.subcommand ?? '')}`,
      );
      return EXIT.badInput;
  }
}
