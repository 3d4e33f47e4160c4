// What Kafka accepts in a consumer group id that a shell passes without quoting.
const PIPELINE = /^[A-Za-z0-9._-]+$/;

/** What is wrong with a `--pipeline` value, or undefined when it is a pipeline name. */
export function pipelineNameProblem(name: string | undefined): string | undefined {
  if (name === undefined || PIPELINE.test(name)) return undefined;
  return `--pipeline: expected a pipeline name of letters, digits, ".", "_" and "-", got ${JSON.stringify(name)}`;
}
