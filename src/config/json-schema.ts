// JSON Schema (draft 2020-12) for each kind of config file, generated from the same zod schemas the
// loader validates with. `vigil schema [vigil|probes|scenarios|alerts]` prints one.
import { z } from 'zod';
import { alertsFileSchema, probesFileSchema, scenariosFileSchema, vigilFileSchema } from './schema.ts';

export const SCHEMA_KINDS = ['vigil', 'probes', 'scenarios', 'alerts'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

const SCHEMAS = {
  vigil: { schema: vigilFileSchema, title: 'Vigil global settings (vigil.yaml)' },
  probes: { schema: probesFileSchema, title: 'Vigil probes (probes/*.yaml)' },
  scenarios: { schema: scenariosFileSchema, title: 'Vigil drills (scenarios/*.yaml)' },
  alerts: { schema: alertsFileSchema, title: 'Vigil alerting (alerts/*.yaml)' },
} as const;

/** One file kind's schema; `io: 'input'` describes what users write (defaults make fields optional). */
export function fileJsonSchema(kind: SchemaKind): Record<string, unknown> {
  const { schema, title } = SCHEMAS[kind];
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { $schema: json.$schema, $id: `https://vigil.dev/schema/${kind}.schema.json`, title, ...json };
}

/** All four, keyed by file kind. */
export function configJsonSchema(): Record<SchemaKind, Record<string, unknown>> {
  return Object.fromEntries(SCHEMA_KINDS.map((k) => [k, fileJsonSchema(k)])) as Record<SchemaKind, Record<string, unknown>>;
}
