// The config's shape, once: zod schemas give the loader its validation and `vigil schema` its JSON
// Schema. Every field is described so editors can show the text. Keys are snake_case and strict:
// an unknown key is an error (a typo must never be silently ignored).
import { z } from 'zod';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from './duration.ts';
import { checkCron } from './cron.ts';

/** Message and hint travel together through zod as `message\nhint`; the loader splits them. */
export function withHint(message: string, hint: string): string {
  return `${message}\n${hint}`;
}

export const ID_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
const ID_HINT = 'ids are lower-case letters, digits, "-" and "_", starting with a letter or digit, e.g. openai-canary';

const id = (what: string) =>
  z
    .string()
    .max(64)
    .regex(new RegExp(ID_PATTERN), { error: (iss) => withHint(`not a valid ${what}: ${describeInput(iss.input)}`, ID_HINT) })
    .describe(`Stable ${what}: lower-case letters, digits, "-" and "_". History is keyed by it: renaming it starts a new history.`);

/** A duration string with a unit. `min` guards against schedules that would hammer a provider. */
export function duration(description: string, min?: { ms: number; text: string }) {
  return z
    .string({ error: (iss) => withHint(`expected a duration like "60s", got ${describeInput(iss.input)}`, DURATION_HINT) })
    .regex(new RegExp(DURATION_PATTERN), { error: (iss) => withHint(`expected a duration like "60s", got ${describeInput(iss.input)}`, DURATION_HINT) })
    .refine((s) => !min || (parseDuration(s) ?? Infinity) >= min.ms, { error: `must be at least ${min?.text}` }) // malformed: reported above
    .describe(`${description} A number with a unit: ms, s, m, h, d (e.g. "30s", "5m").`);
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const timezone = z
  .string()
  .refine(isTimeZone, {
    error: (iss) => withHint(`unknown time zone ${describeInput(iss.input)}`, 'use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York"'),
  })
  .describe('IANA time zone, e.g. "UTC" or "America/New_York".');

const cronExpr = z
  .string()
  .superRefine((expr, ctx) => {
    const r = checkCron(expr);
    if (!r.ok) {
      ctx.addIssue({
        code: 'custom',
        message: withHint(`invalid cron expression: ${r.message}`, 'five fields "minute hour day-of-month month day-of-week" (or six with seconds first), e.g. "*/5 * * * *"'),
      });
    }
  })
  .describe('Cron expression (node-cron syntax: 5 fields, or 6 with seconds first), evaluated in `timezone`. Use instead of `every`.');

const url = z
  .string()
  .regex(/^https?:\/\/[^\s/$.?#][^\s]*$/, { error: (iss) => withHint(`expected an http(s) URL, got ${describeInput(iss.input)}`, 'e.g. "https://api.openai.com" or "http://127.0.0.1:4000"') })
  .describe('http(s) URL.');

const headers = z
  .record(
    z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'not a valid HTTP header name' }),
    z.string(),
  )
  .describe('Extra HTTP request headers (values may use ${ENV}; never logged).');

const timeouts = z
  .strictObject({
    connect: duration('TCP (and TLS) connect timeout.').optional(),
    first_byte: duration('Time allowed from sending the request to the response headers.').optional(),
    total: duration('Time allowed for the whole call, body included.').optional(),
  })
  .describe('Per-phase timeouts; each maps to error class `timeout` with the phase named.');

// ---------------------------------------------------------------------------------------------------
// vigil.yaml

const providerKinds = ['openai', 'anthropic', 'gemini'] as const;

export const providerSchema = z
  .strictObject({
    kind: z.enum(providerKinds).describe('Wire protocol: openai (Chat Completions), anthropic (Messages), gemini (generateContent).'),
    base_url: url.optional().describe('API base URL without the version path; defaults to the provider\'s public API. Point it at the simulator or a proxy here.'),
    api_key: z.string().optional().describe('API key, normally "${OPENAI_API_KEY}" style. Never printed.'),
    api_version: z.string().optional().describe('Anthropic `anthropic-version` header (default "2023-06-01") or Gemini API version path (default "v1beta").'),
    headers: headers.optional(),
  })
  .describe('A provider endpoint that probes reach with `target: provider:<name>`.');

export const gatewaySchema = z
  .strictObject({
    flavour: z
      .enum(['litellm', 'portkey', 'openai'])
      .default('openai')
      .describe('Which gateway: litellm and portkey also report the serving target and fallbacks from their response headers; openai is any other OpenAI-compatible gateway.'),
    base_url: url.describe('Gateway base URL (OpenAI-compatible, e.g. LiteLLM http://127.0.0.1:4000 or Portkey http://127.0.0.1:8787).'),
    api_key: z.string().optional().describe('Gateway key (e.g. "${GATEWAY_API_KEY}"). Never printed.'),
    headers: headers.optional().describe('Extra headers on every gateway call, e.g. `x-portkey-config`.'),
  })
  .describe('An OpenAI-compatible LLM gateway that probes reach with `target: gateway`.');

export const priceSchema = z
  .strictObject({
    input_per_mtok: z.number().nonnegative().describe('USD per million input tokens.'),
    output_per_mtok: z.number().nonnegative().describe('USD per million output tokens.'),
  })
  .describe('Price of one model.');

export const vigilFileSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1').describe('Address the HTTP server binds to.'),
        port: z.number().int().min(0).max(65535).default(9464).describe('Port for /metrics, /healthz, /api and webhooks.'),
        public_url: url.optional().describe('URL others use to reach Vigil (links in notifications); defaults to http://host:port.'),
      })
      .default({ host: '127.0.0.1', port: 9464 })
      .describe('HTTP server.'),
    storage: z
      .strictObject({
        path: z.string().default('./data/vigil.db').describe('SQLite database file, relative to the config directory.'),
        raw_retention: duration('How long raw probe results are kept.').default('14d'),
        rollup_retention: duration('How long hourly rollups are kept.').default('400d'),
      })
      .default({ path: './data/vigil.db', raw_retention: '14d', rollup_retention: '400d' })
      .describe('Result store.'),
    defaults: z
      .strictObject({
        owner: z.string().min(1).optional().describe('Owner for probes that name none.'),
        every: duration('Interval for probes without `every` or `cron`.', { ms: 1000, text: '1s' }).default('60s'),
        timezone: timezone.default('UTC'),
        stream: z.boolean().default(true).describe('Stream responses (measures time to first token).'),
        max_tokens: z.number().int().min(1).max(100_000).default(16).describe('Output token cap for probes that set none.'),
        timeout: timeouts.default({}),
      })
      .default({ every: '60s', timezone: 'UTC', stream: true, max_tokens: 16, timeout: {} })
      .describe('Values probes inherit when they do not set them.'),
    scheduler: z
      .strictObject({
        confirm_failures: z.number().int().min(0).max(10).default(1).describe('Immediate re-probes after a failure before it counts as confirmed (0 = none).'),
        concurrency_per_provider: z.number().int().min(1).max(1000).default(4).describe('Most probes in flight at once per provider or gateway.'),
        jitter: z.boolean().default(true).describe('Spread probes with the same interval deterministically over the interval.'),
        shutdown_grace: duration('On SIGTERM, how long in-flight probes may finish.').default('10s'),
      })
      .default({ confirm_failures: 1, concurrency_per_provider: 4, jitter: true, shutdown_grace: '10s' })
      .describe('Scheduling.'),
    providers: z
      .record(id('provider name'), providerSchema)
      .default({})
      .describe('Provider endpoints by name; a probe uses one with `target: provider:<name>`.'),
    gateway: gatewaySchema.optional(),
    pricing: z
      .record(z.string().min(1), priceSchema)
      .default({})
      .describe('Prices that add to or override the shipped table, by model (a family name also matches its dated snapshots).'),
    // Reserved for later features; validated loosely until they land.
    webhooks: z
      .record(id('webhook source name'), z.looseObject({ kind: z.enum(['standard-webhooks', 'statuspage', 'generic']).describe('Payload and signature scheme.') }))
      .optional()
      .describe('Webhook sources received at POST /webhooks/<name>.'),
    consumers: z
      .array(z.looseObject({ id: id('consumer id'), owner: z.string().min(1), models: z.array(z.string()).describe('Models this feature or service calls.') }))
      .optional()
      .describe('Features or services that use models, so deprecations and model changes reach their owners.'),
    deprecations: z
      .array(z.looseObject({ model: z.string().min(1), shutdown_at: z.string().describe('Date (YYYY-MM-DD) the model goes away.') }))
      .optional()
      .describe('Known model retirements to count down to.'),
  })
  .describe('Vigil global settings (vigil.yaml).');

// ---------------------------------------------------------------------------------------------------
// probes/*.yaml

const assertionKeys = {
  contains: z.string().min(1).describe('The answer contains this text.'),
  not_contains: z.string().min(1).describe('The answer does not contain this text.'),
  regex: z
    .string()
    .min(1)
    .superRefine((re, ctx) => {
      try {
        new RegExp(re);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
      }
    })
    .describe('The answer matches this JavaScript regular expression.'),
  json: z.literal(true, { error: withHint('`json` takes the value true', 'write `json: true`; leave the assertion out otherwise') }).describe('The answer parses as JSON.'),
  json_schema: z
    .record(z.string(), z.unknown())
    .superRefine((schema, ctx) => {
      const problem = compileJsonSchema(schema);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid JSON Schema: ${problem}` });
    })
    .describe('The answer is JSON valid against this JSON Schema.'),
  max_ttft_ms: z.number().positive().describe('Time to first token at most this many milliseconds.'),
  max_total_ms: z.number().positive().describe('Total call time at most this many milliseconds.'),
  served_model: z.string().min(1).describe('The provider reports serving exactly this model (pin a snapshot).'),
  refusal: z.enum(['expected', 'forbidden']).describe('The model must refuse (expected) or must not refuse (forbidden).'),
};
export const ASSERTION_KEYS = Object.keys(assertionKeys);

export const assertionSchema = z
  .strictObject(Object.fromEntries(Object.entries(assertionKeys).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof assertionKeys]: z.ZodOptional<(typeof assertionKeys)[K]>;
  })
  .superRefine((a, ctx) => {
    const set = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    if (set.length === 0) {
      ctx.addIssue({ code: 'custom', message: withHint('empty assertion', `use one of: ${ASSERTION_KEYS.join(', ')}`) });
    } else if (set.length > 1) {
      ctx.addIssue({ code: 'custom', message: withHint(`one assertion per list item, found ${set.join(' and ')}`, 'split them into separate `- ` items') });
    }
  })
  .meta({ minProperties: 1, maxProperties: 1 })
  .describe('One check on the answer; exactly one key per list item.');

const messageSchema = z
  .strictObject({
    role: z.enum(['system', 'user', 'assistant']).describe('Who says it.'),
    content: z.string().min(1).describe('The text.'),
  })
  .describe('One chat message.');

export const probeSchema = z
  .strictObject({
    id: id('probe id'),
    name: z.string().optional().describe('Human-readable name (display only).'),
    owner: z.string().min(1).optional().describe('Team that owns the probe and receives its alerts (default: defaults.owner).'),
    target: z
      .string()
      .regex(/^(provider:[a-z0-9][a-z0-9_-]*|gateway)$/, {
        error: (iss) => withHint(`expected "provider:<name>" or "gateway", got ${describeInput(iss.input)}`, 'name a provider from vigil.yaml `providers`, e.g. "provider:openai"'),
      })
      .describe('Where the call goes: "provider:<name>" (a key of vigil.yaml `providers`) or "gateway".'),
    model: z.string().min(1).describe('Model to request, e.g. "gpt-4o-mini" (an alias) or a pinned snapshot.'),
    kind: z
      .enum(['canary', 'benign', 'should_refuse'])
      .default('canary')
      .describe('canary: liveness and latency; benign: should be answered (over-refusal drift); should_refuse: should be refused (safety drift).'),
    every: duration('Run interval (default: defaults.every).', { ms: 1000, text: '1s' }).optional(),
    cron: cronExpr.optional(),
    timezone: timezone.optional().describe('Time zone for `cron` (default: defaults.timezone).'),
    stream: z.boolean().optional().describe('Stream the answer (default: defaults.stream).'),
    prompt: z.string().min(1).optional().describe('Shorthand for one user message. Use this or `messages`.'),
    system: z.string().min(1).optional().describe('System message to send before `prompt`.'),
    messages: z.array(messageSchema).min(1).optional().describe('The conversation to send. Use this or `prompt`.'),
    max_tokens: z.number().int().min(1).max(100_000).optional().describe('Output token cap (default: defaults.max_tokens); also the cost estimate\'s output bound.'),
    temperature: z.number().min(0).max(2).optional().describe('Sampling temperature; 0 for the most repeatable answers.'),
    timeout: timeouts.optional().describe('Per-phase timeouts (each defaults to defaults.timeout).'),
    labels: z
      .record(
        z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: withHint('not a valid label name', 'label names are letters, digits and "_" (Prometheus rules)') }),
        z.string(),
      )
      .optional()
      .describe('Extra labels for metrics, routing and silences (keep values few and fixed).'),
    headers: headers.optional(),
    assert: z.array(assertionSchema).optional().describe('Checks on the answer; all must pass.'),
  })
  .describe('One canary probe.');

export const probesFileSchema = z
  .strictObject({ probes: z.array(probeSchema).default([]).describe('Probe definitions; ids are unique across all files.') })
  .describe('A file of probes (probes/*.yaml).');

// ---------------------------------------------------------------------------------------------------
// scenarios/*.yaml and alerts/*.yaml: top-level keys are strict; their contents are defined by later
// features and only loosely checked here.

export const drillSchema = z
  .looseObject({
    id: id('drill id'),
    owner: z.string().min(1).optional().describe('Team that owns the drill.'),
  })
  .describe('A fault-injection drill.');

export const scenariosFileSchema = z
  .strictObject({ drills: z.array(drillSchema).default([]).describe('Drill definitions; ids are unique across all files.') })
  .describe('A file of drills (scenarios/*.yaml).');

const loose = (description: string) => z.looseObject({}).describe(description);

export const alertsFileSchema = z
  .strictObject({
    owners: z.record(z.string().min(1), loose('How to reach the team (Slack channel, PagerDuty routing key, escalation).')).optional().describe('Teams by name.'),
    receivers: z.record(z.string().min(1), loose('One notification destination.')).optional().describe('Named receivers.'),
    routes: z.array(loose('Label matchers and the receivers to notify.')).optional().describe('Routing rules, first match wins unless `continue`.'),
    silences: z.array(loose('Matchers and a time range.')).optional().describe('Silences.'),
    maintenance: z.array(loose('A one-off or recurring window.')).optional().describe('Maintenance windows.'),
    inhibit_rules: z.array(loose('Source and target matchers.')).optional().describe('Inhibition rules.'),
    escalation: loose('When to page after notifying.').optional().describe('Escalation policy.'),
  })
  .describe('Alerting: owners, receivers, routes, silences (alerts/*.yaml).');

export type VigilFile = z.output<typeof vigilFileSchema>;
export type ProbesFile = z.output<typeof probesFileSchema>;
export type ProbeInput = z.output<typeof probeSchema>;
export type AssertionInput = z.output<typeof assertionSchema>;
export type ScenariosFile = z.output<typeof scenariosFileSchema>;
export type AlertsFile = z.output<typeof alertsFileSchema>;

// ---------------------------------------------------------------------------------------------------

/** `"abc"`, `60`, `a list`, … for messages ("got …"). Strings are truncated; secrets are redacted later. */
export function describeInput(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

/** Undefined when `schema` compiles, else ajv's reason. Draft 2020-12 when it says so, else draft-07. */
export function compileJsonSchema(schema: Record<string, unknown>): string | undefined {
  try {
    const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
    const ajv = is2020 ? new Ajv2020({ strict: false }) : new Ajv({ strict: false });
    ajv.compile(schema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
