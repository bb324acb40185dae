// `vigil schema [kind]`: JSON Schema for editors (yaml-language-server: `# yaml-language-server: $schema=...`).
import { fileJsonSchema, SCHEMA_KINDS } from '../config/json-schema.ts';
import type { SchemaKind } from '../config/json-schema.ts';
import { splitSub, unknownId } from './args.ts';
import type { Args } from './args.ts';

export async function schemaCommand(argv: Args): Promise<number> {
  const kind = (splitSub(argv)[0] ?? 'vigil') as SchemaKind;
  if (!SCHEMA_KINDS.includes(kind)) throw unknownId('schema', kind, SCHEMA_KINDS, '`vigil schema --help`');
  process.stdout.write(JSON.stringify(fileJsonSchema(kind), null, 2) + '\n');
  return 0;
}
