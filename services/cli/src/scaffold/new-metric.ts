import {
  MetricDefinitionError,
  validateMetricDefinition,
  type EventContract,
  type MetricDefinition,
  type MetricDefinitionInput,
} from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { parseCommandLine } from '../cli/arguments';
import { join } from 'node:path';
import { durationSource, parseDuration } from './durations';
import { camelCase } from './names';
import { render, type FileChange, type ProjectLayout } from './project';
import { addToArray, openSource } from './source-edits';
import { NEW_METRIC_USAGE } from './usage';

// `tidemark new metric <name> --table ... --aggregate ... --window ...`: a definition in its
// own file, validated against the table's current contract before anything is written, and
// listed in the catalogue.

const MEASURED = /^(sum|avg|min|max|count_distinct):([a-z_][a-z0-9_]*)$/;

/** Reads the arguments into a definition input, checked against the table's current contract. */
/** The options it takes, each with a value (the questions read them too). */
export const NEW_METRIC_OPTIONS = {
  table: { type: 'string' },
  aggregate: { type: 'string' },
  window: { type: 'string' },
  keys: { type: 'string' },
  emit: { type: 'string' },
  lateness: { type: 'string' },
  description: { type: 'string' },
  owner: { type: 'string' },
} as const;

export function parseNewMetricArgs(
  argv: readonly string[],
  contractOf: (table: string) => EventContract | undefined,
): MetricDefinitionInput {
  const parsed = parseCommandLine(argv, NEW_METRIC_OPTIONS, NEW_METRIC_USAGE);
  const { values } = parsed;
  const [name, ...stray] = parsed.positionals;
  const missing = (['table', 'aggregate', 'window'] as const).filter((flag) => !values[flag]);
  if (name === undefined || stray.length > 0 || missing.length > 0) {
    const wanted = missing.map((flag) => `--${flag}`).join(', ');
    throw new TidemarkError(
      'BAD_INPUT',
      `expected one metric name${wanted ? ` and ${wanted}` : ''}\n\n${NEW_METRIC_USAGE}`,
    );
  }
  const table = values.table as string;
  const contract = contractOf(table);
  if (contract === undefined) {
    throw new TidemarkError(
      'BAD_INPUT',
      `--table: ${table} has no event contract; add the table first: tidemark new table ${table} --columns ...`,
    );
  }
  const window = parseWindowSpec(values.window as string);
  return {
    name,
    description: values.description ?? `${capitalised(name.replaceAll('_', ' '))} of ${table}.`,
    owner: values.owner ?? contract.owner,
    source: { table, contractVersion: contract.version },
    eventTimeField: contract.eventTimeField,
    keys: values.keys ? values.keys.split(',').map((key) => key.trim()) : [],
    aggregate: parseAggregate(values.aggregate as string),
    filter: [],
    window,
    outOfOrdernessMs: 5_000,
    allowedLatenessMs: parseDuration(values.lateness ?? '5m', '--lateness'),
    emit: parseEmit(values.emit ?? (window.kind === 'tumbling' ? 'on_update' : 'on_window_close')),
  };
}

function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function parseAggregate(text: string): MetricDefinitionInput['aggregate'] {
  if (text === 'count') return { fn: 'count' };
  const match = MEASURED.exec(text);
  if (!match) {
    throw new TidemarkError(
      'BAD_INPUT',
      `--aggregate: expected count or <fn>:<field> (sum, avg, min, max, count_distinct), got ${JSON.stringify(text)}`,
    );
  }
  const fn = match[1] as 'sum' | 'avg' | 'min' | 'max' | 'count_distinct';
  return { fn, of: { field: match[2] as string } };
}

export function parseWindowSpec(text: string): MetricDefinitionInput['window'] {
  const [kind, spec = ''] = text.split(':');
  if (kind === 'tumbling') return { kind, sizeMs: parseDuration(spec, '--window') };
  if (kind === 'session') return { kind, gapMs: parseDuration(spec, '--window') };
  if (kind === 'hopping') {
    const [size = '', slide = ''] = spec.split('/');
    return {
      kind,
      sizeMs: parseDuration(size, '--window'),
      slideMs: parseDuration(slide, '--window (slide)'),
    };
  }
  throw new TidemarkError(
    'BAD_INPUT',
    `--window: expected tumbling:<size>, hopping:<size>/<slide> or session:<gap>, got ${JSON.stringify(text)}`,
  );
}

function parseEmit(text: string): MetricDefinitionInput['emit'] {
  if (text === 'on_update' || text === 'on_window_close') return { kind: text };
  if (text.startsWith('every:')) {
    return { kind: 'every', intervalMs: parseDuration(text.slice(6), '--emit') };
  }
  throw new TidemarkError(
    'BAD_INPUT',
    `--emit: expected on_update, on_window_close or every:<interval>, got ${JSON.stringify(text)}`,
  );
}

/**
 * The file changes that add the metric: refused when the name is taken or the definition is
 * not one the catalogue would accept (every problem named).
 */
export function planNewMetric(
  input: MetricDefinitionInput,
  layout: ProjectLayout,
  catalogue: readonly MetricDefinition[],
  contractFor: (table: string, version: number) => EventContract | undefined,
): FileChange[] {
  if (catalogue.some((metric) => metric.name === input.name)) {
    throw new TidemarkError(
      'BAD_INPUT',
      `a metric named ${input.name} is in the catalogue already`,
    );
  }
  let metric: MetricDefinition;
  try {
    metric = validateMetricDefinition(input, contractFor);
  } catch (error) {
    if (error instanceof MetricDefinitionError) {
      throw new TidemarkError(
        'BAD_INPUT',
        `the definition would be refused:\n  ${error.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n  ')}`,
      );
    }
    throw error;
  }
  const identifier = camelCase(metric.name);
  const file = metric.name.replaceAll('_', '-');
  const window = metric.window;
  const windowText =
    window.kind === 'tumbling'
      ? `{ kind: 'tumbling', sizeMs: ${durationSource(window.sizeMs)} }`
      : window.kind === 'hopping'
        ? `{ kind: 'hopping', sizeMs: ${durationSource(window.sizeMs)}, slideMs: ${durationSource(window.slideMs)} }`
        : `{ kind: 'session', gapMs: ${durationSource(window.gapMs)} }`;
  const emit = metric.emit;
  const emitText =
    emit.kind === 'every'
      ? `{ kind: 'every', intervalMs: ${durationSource(emit.intervalMs)} }`
      : `{ kind: '${emit.kind}' }`;
  const durations = [
    windowText,
    emitText,
    durationSource(metric.outOfOrdernessMs),
    durationSource(metric.allowedLatenessMs),
  ].join(' ');
  const units = ['HOUR', 'MINUTE', 'SECOND'].filter((unit) =>
    new RegExp(`\\b${unit}\\b`).test(durations),
  );
  const catalogueFile = openSource(layout.catalogue);
  addToArray(catalogueFile, {
    array: 'METRICS',
    element: identifier,
    import: { moduleSpecifier: `./${file}`, namedImport: identifier },
  });
  return [
    {
      path: join(layout.metricsDir, `${file}.ts`),
      action: 'create',
      contents: render('metric', {
        ...metric,
        identifier,
        table: metric.source.table,
        contractVersion: metric.source.contractVersion,
        window: windowText,
        emit: emitText,
        outOfOrderness: durationSource(metric.outOfOrdernessMs),
        lateness: durationSource(metric.allowedLatenessMs),
        units,
      }),
    },
    { path: layout.catalogue, action: 'update', contents: catalogueFile.getFullText() },
  ];
}
