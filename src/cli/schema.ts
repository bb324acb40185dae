// `vigil schema [kind]`: JSON Schema for editors (yaml-language-server: `# yaml-language-server: $schema=...`).
import { fileJsonSchema, SCHEMA_KINDS } from '../config/json-schema.ts';
import type { SchemaKind } from '../config/json-schema.ts';
import { UsageError } from './args.ts';

export async function schemaCommand(argv: string[]): Promise<number> {
  const kind = (argv[0] ?? 'vigil') as SchemaKind;
  if (!SCHEMA_KINDS.includes(kind)) throw new UsageError(`unknown schema "${kind}"; one of ${SCHEMA_KINDS.join(', ')}`);
  process.stdout.write(JSON.stringify(fileJsonSchema(kind), null, 2) + '\n');
  return 0;
}
