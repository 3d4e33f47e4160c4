import { chooseStack, startStack } from './stack';

// Runs once before the integration suite: brings up the real services the tests talk to.
export default async function setup(): Promise<() => Promise<void>> {
  const kind = chooseStack();
  process.stderr.write(`[integration] using the ${kind} stack\n`);
  process.env.TIDEMARK_STACK_IN_USE = kind;
  return startStack(kind);
}
