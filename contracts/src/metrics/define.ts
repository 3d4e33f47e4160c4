import { contractVersions } from '../events/registry';
import type { MetricDefinitionInput } from './definition';
import { validateMetricDefinition } from './validate';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

function contractFor(table: string, version: number) {
  return contractVersions(table).find((contract) => contract.version === version);
}

/** Declares a metric; validated here, so a bad definition fails at import with every problem. */
export function defineMetric(input: MetricDefinitionInput) {
  return Object.freeze(validateMetricDefinition(input, contractFor));
}
