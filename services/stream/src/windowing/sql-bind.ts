/**
 * How an operator's SQL twin puts a value in its text: `bind` returns a placeholder for the value
 * (the batch layer's `binder` collects them), so identifiers and literals from a definition never
 * become SQL text themselves.
 */
export type Bind = (value: string | number | boolean | Date) => string;
