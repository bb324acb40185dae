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

/** A `${VAR}` / `${VAR:-default}` reference somewhere in a string. */
const ENV_REFERENCE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}', description: 'Taken from the environment when loaded.' };

/**
 * Files are validated as written, before interpolation: any scalar with a constraint (a pattern, an enum,
 * a number, a boolean) may instead be a string holding a `${VAR}` reference, exactly as the loader allows.
 */
function allowEnvReferences(ctx: { jsonSchema: Record<string, unknown> }): void {
  const js = ctx.jsonSchema;
  const t = js.type;
  const constrained =
    (t === 'string' && (js.pattern !== undefined || js.enum !== undefined || js.format !== undefined)) ||
    t === 'number' ||
    t === 'integer' ||
    t === 'boolean' ||
    js.const !== undefined;
  if (!constrained) return;
  const { description, default: def, ...rest } = js;
  for (const k of Object.keys(js)) delete js[k];
  if (description !== undefined) js.description = description;
  if (def !== undefined) js.default = def;
  js.anyOf = [rest, ENV_REFERENCE];
}

/** One file kind's schema; `io: 'input'` describes what users write (defaults make fields optional). */
export function fileJsonSchema(kind: SchemaKind): Record<string, unknown> {
  const { schema, title } = SCHEMAS[kind];
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    override: (ctx) => allowEnvReferences(ctx as { jsonSchema: Record<string, unknown> }),
  }) as Record<string, unknown>;
  return { $schema: json.$schema, $id: `https://vigil.dev/schema/${kind}.schema.json`, title, ...json };
}

/** All four, keyed by file kind. */
export function configJsonSchema(): Record<SchemaKind, Record<string, unknown>> {
  return Object.fromEntries(SCHEMA_KINDS.map((k) => [k, fileJsonSchema(k)])) as Record<SchemaKind, Record<string, unknown>>;
}
