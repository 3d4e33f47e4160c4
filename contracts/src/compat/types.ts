/** Schema Registry compatibility modes, in the registry's own spelling. */
export const COMPATIBILITY_MODES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** A JSON Schema document or subschema: a boolean schema or an object of keywords. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

/** The object form of a schema, or any JSON object. */
export type JsonObject = { [keyword: string]: unknown };

/** Every rule a reported change can carry; the rule names what changed from previous to next. */
export const SCHEMA_CHANGE_RULES = [
  'TYPE_NARROWED',
  'TYPE_WIDENED',
  'TYPE_CHANGED',
  'ENUM_ADDED',
  'ENUM_REMOVED',
  'ENUM_VALUE_ADDED',
  'ENUM_VALUE_REMOVED',
  'CONST_ADDED',
  'CONST_REMOVED',
  'CONST_CHANGED',
  'MINIMUM_ADDED',
  'MINIMUM_REMOVED',
  'MINIMUM_INCREASED',
  'MINIMUM_DECREASED',
  'EXCLUSIVE_MINIMUM_ADDED',
  'EXCLUSIVE_MINIMUM_REMOVED',
  'EXCLUSIVE_MINIMUM_INCREASED',
  'EXCLUSIVE_MINIMUM_DECREASED',
  'MAXIMUM_ADDED',
  'MAXIMUM_REMOVED',
  'MAXIMUM_INCREASED',
  'MAXIMUM_DECREASED',
  'EXCLUSIVE_MAXIMUM_ADDED',
  'EXCLUSIVE_MAXIMUM_REMOVED',
  'EXCLUSIVE_MAXIMUM_INCREASED',
  'EXCLUSIVE_MAXIMUM_DECREASED',
  'MULTIPLE_OF_ADDED',
  'MULTIPLE_OF_REMOVED',
  'MULTIPLE_OF_CHANGED',
  'MIN_LENGTH_ADDED',
  'MIN_LENGTH_REMOVED',
  'MIN_LENGTH_INCREASED',
  'MIN_LENGTH_DECREASED',
  'MAX_LENGTH_ADDED',
  'MAX_LENGTH_REMOVED',
  'MAX_LENGTH_INCREASED',
  'MAX_LENGTH_DECREASED',
  'PATTERN_ADDED',
  'PATTERN_REMOVED',
  'PATTERN_CHANGED',
  'FORMAT_ADDED',
  'FORMAT_REMOVED',
  'FORMAT_CHANGED',
  'PROPERTY_ADDED',
  'PROPERTY_REMOVED',
  'REQUIRED_ADDED',
  'REQUIRED_REMOVED',
  'ADDITIONAL_PROPERTIES_CLOSED',
  'ADDITIONAL_PROPERTIES_OPENED',
  'ADDITIONAL_PROPERTIES_RESTRICTED',
  'ADDITIONAL_PROPERTIES_RELAXED',
  'PATTERN_PROPERTY_ADDED',
  'PATTERN_PROPERTY_REMOVED',
  'DEPENDENCY_ADDED',
  'DEPENDENCY_REMOVED',
  'MIN_PROPERTIES_ADDED',
  'MIN_PROPERTIES_REMOVED',
  'MIN_PROPERTIES_INCREASED',
  'MIN_PROPERTIES_DECREASED',
  'MAX_PROPERTIES_ADDED',
  'MAX_PROPERTIES_REMOVED',
  'MAX_PROPERTIES_INCREASED',
  'MAX_PROPERTIES_DECREASED',
  'PREFIX_ITEM_ADDED',
  'PREFIX_ITEM_REMOVED',
  'MIN_ITEMS_ADDED',
  'MIN_ITEMS_REMOVED',
  'MIN_ITEMS_INCREASED',
  'MIN_ITEMS_DECREASED',
  'MAX_ITEMS_ADDED',
  'MAX_ITEMS_REMOVED',
  'MAX_ITEMS_INCREASED',
  'MAX_ITEMS_DECREASED',
  'MIN_CONTAINS_INCREASED',
  'MIN_CONTAINS_DECREASED',
  'MAX_CONTAINS_INCREASED',
  'MAX_CONTAINS_DECREASED',
  'UNIQUE_ITEMS_ADDED',
  'UNIQUE_ITEMS_REMOVED',
  'ANY_OF_BRANCH_ADDED',
  'ANY_OF_BRANCH_REMOVED',
  'ONE_OF_BRANCH_ADDED',
  'ONE_OF_BRANCH_REMOVED',
  'ALL_OF_MEMBER_ADDED',
  'ALL_OF_MEMBER_REMOVED',
  'FALSE_SCHEMA_ADDED',
  'FALSE_SCHEMA_REMOVED',
  'REF_UNRESOLVED',
  'KEYWORD_ADDED',
  'KEYWORD_REMOVED',
  'KEYWORD_CHANGED',
] as const;
export type SchemaChangeRule = (typeof SCHEMA_CHANGE_RULES)[number];

/** One difference between two schema versions that may reject some data the other accepts. */
export interface SchemaChange {
  /** JSON pointer to the keyword or property, along the path both schemas share. */
  pointer: string;
  rule: SchemaChangeRule;
  message: string;
  /** Some data valid under the previous schema may be invalid under the next one. */
  breaksBackward: boolean;
  /** Some data valid under the next schema may be invalid under the previous one. */
  breaksForward: boolean;
  /** Breaks the compatibility mode that was asked for. */
  breaks: boolean;
  /** Index into the history of the version this change is measured against (0 for a pair). */
  againstVersionIndex: number;
}

/** The outcome of checking a schema against one or more earlier versions. */
export interface CompatibilityReport {
  mode: CompatibilityMode;
  compatible: boolean;
  changes: SchemaChange[];
}

/** A reason a document is not an acceptable JSON Schema. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}
