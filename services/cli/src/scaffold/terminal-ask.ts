import { input, select } from '@inquirer/prompts';
import type { Ask } from './questions';

/** Questions put in the terminal with Inquirer; an answer with a problem is asked again. */
export const terminalAsk: Ask = {
  text: ({ message, default: byDefault, check }) =>
    input({
      message,
      ...(byDefault === undefined ? {} : { default: byDefault }),
      validate: (answer) => check?.(answer) ?? true,
    }),
  choose: ({ message, choices }) => select({ message, choices: [...choices] }),
};
