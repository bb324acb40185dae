// Public API of the config module.
export { loadConfig } from './load.ts';
export type { LoadOptions, LoadResult } from './load.ts';
export { ConfigLoadError, formatError, formatErrors } from './errors.ts';
export type { ConfigError } from './errors.ts';
export type { VigilConfig, GatewayFlavour, Sourced } from './types.ts';
export { redactConfig, redactString, secretValues, isSecretField } from './redact.ts';
export { configJsonSchema, fileJsonSchema, SCHEMA_KINDS } from './json-schema.ts';
export type { SchemaKind } from './json-schema.ts';
export { validateCommand } from './validate-cli.ts';
export type { ValidateOptions, Out } from './validate-cli.ts';
export { estimateProbeCost, runsPerMonth } from './cost.ts';
export type { CostEstimate } from './cost.ts';
export { findPrice, mergePricing, SHIPPED_PRICING } from './pricing.ts';
export type { ModelPrice, PricingTable, PriceMatch } from './pricing.ts';
export { formatDuration, parseDuration } from './duration.ts';
