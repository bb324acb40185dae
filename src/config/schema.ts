// The config's shape, once: zod schemas give the loader its validation and `vigil schema` its JSON
// Schema. Every field is described so editors can show the text. Keys are snake_case and strict:
// an unknown key is an error (a typo must never be silently ignored).
import { z } from 'zod';
import { serverConfigSchema } from '../server/config.ts';
import { regexProblem } from './regex.ts';
import { latencyConfigSchema } from '../detectors/latency/config.ts';
import { chaosConfigSchema } from '../chaos/config.ts';
import { detectorsConfigSchema } from '../detectors/config.ts';
import { compileSchema } from '../classify/assertions.ts';
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from './duration.ts';
import { checkCron } from './cron.ts';
import { isTimeZone } from '../time.ts';
import { faultSchema } from '../chaos/faults.ts';

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
    owner: z
      .string()
      .min(1)
      .optional()
      .describe("Who owns the gateway: a gateway probe failing while the direct probe of the same model works is theirs (default: the gateway probe's owner)."),
  })
  .describe('An OpenAI-compatible LLM gateway that probes reach with `target: gateway`.');

export const priceSchema = z
  .strictObject({
    input_per_mtok: z.number().nonnegative().describe('USD per million input tokens.'),
    output_per_mtok: z.number().nonnegative().describe('USD per million output tokens.'),
  })
  .describe('Price of one model.');

// ── webhooks, consumers, deprecations (issue 7) ──────────────────────────────────────────────────────

const WEBHOOK_KINDS = ['standard-webhooks', 'statuspage', 'generic'] as const;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

const isoDate = z
  .string({ error: (iss) => withHint(`expected a date like "2026-10-23", got ${describeInput(iss.input)}`, 'write the date as YYYY-MM-DD (UTC); quote it') })
  .refine((s) => DATE_RE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), {
    error: (iss) => withHint(`expected a date like "2026-10-23", got ${describeInput(iss.input)}`, 'write the date as YYYY-MM-DD (UTC); quote it'),
  })
  .describe('A date, YYYY-MM-DD (UTC).');

const modelPatterns = z.array(z.string().min(1)).min(1).describe('Model ids; "*" matches any run of characters (e.g. "claude-*").');

export const webhookSourceSchema = z
  .strictObject({
    kind: z.enum(WEBHOOK_KINDS).describe('standard-webhooks (OpenAI and any Standard Webhooks sender), statuspage (Atlassian Statuspage subscriber webhooks), generic (Vigil deprecation notice signed with HMAC-SHA256).'),
    secret: z.string().optional().describe('standard-webhooks: the signing secret ("whsec_…"); generic: the HMAC key. Normally "${ENV}". Never printed.'),
    previous_secret: z.string().optional().describe('During rotation: the old secret, also accepted until you remove it. Empty means none.'),
    token: z.string().optional().describe('statuspage: secret path token (at least 16 characters); subscribe the page to /webhooks/<name>/<token>. Never printed.'),
    tolerance: duration('standard-webhooks and generic: how far the signed timestamp may be from now.').optional(),
    require_timestamp: z.boolean().optional().describe('generic: reject notices without an x-vigil-timestamp header (default false).'),
    provider: z.string().min(1).optional().describe('Provider this source speaks for (e.g. "anthropic"): labels its signals and the notices that name none.'),
    name: z.string().min(1).optional().describe('Display name for signals, e.g. "Claude status page" (default: the source name).'),
    page_id: z.string().min(1).optional().describe('statuspage: only accept payloads from this page id (e.g. "tymt9n04zgry").'),
    components: z
      .record(
        z.string().min(1),
        z.strictObject({
          provider: z.string().min(1).optional().describe('Provider this component belongs to (default: the source\'s provider).'),
          models: modelPatterns.optional(),
        }),
      )
      .optional()
      .describe('statuspage: component name → provider and the models it covers, so incidents reach the right probes.'),
    max_body: z.number().int().min(1024).max(16 * 1024 * 1024).optional().describe('Largest accepted body in bytes (default 262144).'),
  })
  .superRefine((w, ctx) => {
    const need = (key: keyof typeof w, why: string) => {
      if (w[key] === undefined || w[key] === '') ctx.addIssue({ code: 'custom', path: [key], message: withHint(`missing required field \`${key}\``, why) });
    };
    const forbid = (key: keyof typeof w) => {
      if (w[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `\`${key}\` does not apply to kind ${w.kind}` });
    };
    if (w.kind === 'statuspage') {
      need('token', 'a secret path token, e.g. "${CLAUDE_STATUS_TOKEN}"; Statuspage webhooks are unsigned');
      if (typeof w.token === 'string' && w.token.length > 0 && w.token.length < 16) {
        ctx.addIssue({ code: 'custom', path: ['token'], message: withHint('token is too short', 'use at least 16 random characters, e.g. `openssl rand -hex 16`') });
      }
      for (const k of ['secret', 'previous_secret', 'tolerance', 'require_timestamp'] as const) forbid(k);
    } else {
      need('secret', w.kind === 'standard-webhooks' ? 'the "whsec_…" signing secret, e.g. "${OPENAI_WEBHOOK_SECRET}"' : 'an HMAC key, e.g. "${VIGIL_NOTICE_SECRET}"');
      for (const k of ['token', 'page_id', 'components'] as const) forbid(k);
      if (w.kind === 'standard-webhooks') forbid('require_timestamp');
      if (w.kind === 'standard-webhooks') {
        for (const k of ['secret', 'previous_secret'] as const) {
          const v = w[k];
          if (v && !/^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(v)) {
            ctx.addIssue({ code: 'custom', path: [k], message: withHint('not a Standard Webhooks secret', 'expected "whsec_" followed by base64, as shown by the sender') });
          }
        }
      }
    }
  })
  .describe('One webhook source.');

export const consumerSchema = z
  .strictObject({
    id: id('consumer id'),
    owner: z.string().min(1).describe('Team that owns the feature or service (receives deprecation and model-list signals).'),
    models: modelPatterns.describe('Models this feature or service calls; "*" matches any run of characters.'),
    provider: z.string().min(1).optional().describe('Provider kind or name the models come from (default: any).'),
    description: z.string().optional().describe('What it is (display only).'),
  })
  .describe('A feature or service that uses models.');

export const deprecationSchema = z
  .strictObject({
    model: z.string().min(1).describe('Model id that goes away, e.g. "gpt-4o-2024-05-13".'),
    shutdown_at: isoDate.describe('Date (YYYY-MM-DD, UTC) the model goes away.'),
    replacement: z.string().min(1).optional().describe('Model to move to.'),
    url: url.optional().describe('Announcement or migration guide.'),
    provider: z.string().min(1).optional().describe('Provider kind (openai, anthropic, gemini) when the id is ambiguous across providers.'),
  })
  .describe('A dated model retirement.');

// ── model lists beyond the probe providers (issue 16) ─────────────────────────────────────────────────
export const MODEL_LIST_KINDS = ['azure-openai', 'azure-arm', 'bedrock', 'mistral', 'openrouter'] as const;

export const modelListSchema = z
  .strictObject({
    kind: z.enum(MODEL_LIST_KINDS).describe('azure-openai (data plane /openai/models), azure-arm (…/locations/{loc}/models), bedrock (ListFoundationModels), mistral (/v1/models), openrouter (/api/v1/models).'),
    url: url.optional().describe('azure-openai: the resource endpoint; azure-arm: the full list URL with api-version; others: override the public base URL.'),
    api_key: z.string().optional().describe('azure-openai: sent as api-key; mistral/openrouter: Bearer. Normally "${ENV}". Never printed.'),
    token: z.string().optional().describe('azure-arm: an Entra ID bearer token for management.azure.com. Normally "${ENV}". Never printed.'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'not an AWS region, e.g. us-east-1' }).optional().describe('bedrock: AWS region.'),
    access_key_id: z.string().optional().describe('bedrock: AWS access key id, normally "${AWS_ACCESS_KEY_ID}".'),
    secret: z.string().optional().describe('bedrock: AWS secret access key, normally "${AWS_SECRET_ACCESS_KEY}". Never printed.'),
    session_token: z.string().optional().describe('bedrock: AWS session token for temporary credentials. Never printed.'),
    provider: z.string().min(1).optional().describe('Provider the listed ids belong to, for matching consumers (default: the kind; azure-* → azure).'),
    every: duration('How often to poll (default 6h).', { ms: 3_600_000, text: '1h' }).optional(),
    headers: headers.optional(),
  })
  .superRefine((m, ctx) => {
    const need = (k: 'url' | 'api_key' | 'token' | 'region' | 'access_key_id' | 'secret', hint: string) => {
      if (!m[k]) ctx.addIssue({ code: 'custom', path: [k], message: withHint(`${m.kind} needs \`${k}\``, hint) });
    };
    if (m.kind === 'azure-openai') {
      need('url', 'the resource endpoint, e.g. "https://my-resource.openai.azure.com"');
      need('api_key', 'e.g. "${AZURE_OPENAI_API_KEY}"');
    } else if (m.kind === 'azure-arm') {
      need('url', 'e.g. "https://management.azure.com/subscriptions/<id>/providers/Microsoft.CognitiveServices/locations/eastus/models?api-version=2024-10-01"');
      need('token', 'an Entra ID token, e.g. "${AZURE_ARM_TOKEN}"');
    } else if (m.kind === 'bedrock') {
      need('region', 'e.g. us-east-1');
      need('access_key_id', 'e.g. "${AWS_ACCESS_KEY_ID}"');
      need('secret', 'e.g. "${AWS_SECRET_ACCESS_KEY}"');
    } else if (m.kind === 'mistral') need('api_key', 'e.g. "${MISTRAL_API_KEY}"');
  })
  .describe('A provider model list polled for lifecycle dates.');

/** A vantage point: where an instance runs (eu-west, us-east-1, office). */
export const LOCATION_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const locationName = z
  .string()
  .regex(LOCATION_RE, { error: withHint('not a valid location name', 'lower-case letters, digits, "-" and "_", e.g. eu-west') });

export const vigilFileSchema = z
  .strictObject({
    location: locationName
      .optional()
      .describe('Where this instance probes from (e.g. eu-west): stamped on every result, metric and status row. VIGIL_LOCATION overrides it; default "default".'),
    cluster: z
      .strictObject({
        min_failing_locations: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe("Locations that must see a probe fail before it pages (default: a majority of the locations reporting it). Fewer is a warning naming the location, for Vigil's owner (alerts defaults.vigil_owner)."),
      })
      .optional()
      .describe('Several instances on one PostgreSQL store (storage.url): how their locations decide together.'),
    server: serverConfigSchema,
    storage: z
      .strictObject({
        path: z.string().default('./data/vigil.db').describe('SQLite database file, relative to the config directory.'),
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/, { error: withHint('not a PostgreSQL URL', 'postgres://user@host:5432/vigil; the password from ${ENV} or PGPASSWORD') })
          .optional()
          .describe('PostgreSQL URL: the store lives there instead of `path`, and several instances may share it (one leads). Take the password from ${ENV} or PGPASSWORD.'),
        raw_retention: duration('How long raw probe results are kept.').default('14d'),
        rollup_retention: duration('How long hourly rollups are kept.').default('400d'),
        unwritable_grace: duration(
          'How long Vigil goes on from memory when it cannot write its store (full disk) before /healthz fails so a supervisor acts; /readyz fails at once.',
        ).default('5m'),
        memory_buffer: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(10_000)
          .describe('Most probe results kept in memory while the store cannot be written, retried until it can (the oldest are dropped beyond it, and counted).'),
      })
      .default({ path: './data/vigil.db', raw_retention: '14d', rollup_retention: '400d', unwritable_grace: '5m', memory_buffer: 10_000 })
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
        probe_threads: z
          .number()
          .int()
          .min(0)
          .max(16)
          .default(1)
          .describe("Worker threads that make the probe calls, each with its own HTTP client and heap (0: on the daemon's event loop). Read at start."),
      })
      .default({ confirm_failures: 1, concurrency_per_provider: 4, jitter: true, shutdown_grace: '10s', probe_threads: 1 })
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
    webhooks: z
      .record(id('webhook source name'), webhookSourceSchema)
      .optional()
      .describe('Webhook sources received at POST /webhooks/<name> (statuspage: POST /webhooks/<name>/<token>).'),
    consumers: z
      .array(consumerSchema)
      .optional()
      .describe('Features or services that use models, so deprecations and model changes reach their owners.'),
    deprecations: z
      .array(deprecationSchema)
      .optional()
      .describe('Known model retirements to count down to (added to the shipped table and to what webhooks and model lists report).'),
    model_lists: z
      .record(id('model list name'), modelListSchema)
      .optional()
      .describe('Model lists polled for retirement dates beyond the probe providers: Azure OpenAI, Azure ARM, Bedrock, Mistral, OpenRouter.'),
    chaos: chaosConfigSchema.optional().describe('Fault-injection proxy for fallback drills (gateways point a drill upstream at it).'),
    heartbeat: z
      .strictObject({
        url: z
          .string()
          .regex(/^https?:\/\/\S+$/, { error: withHint('not an http(s) URL', 'the check-in URL of your heartbeat service, from ${ENV} since it holds a token') })
          .describe("Check-in URL pinged while Vigil is healthy (healthchecks.io, Dead Man's Snitch, Better Stack, a PagerDuty or Opsgenie heartbeat). It holds the check's token: take it from ${ENV}."),
        method: z.enum(['GET', 'POST']).default('GET').describe('HTTP method the service expects.'),
        every: duration('How often to ping while healthy; set the service to expect it at this period plus a grace.', { ms: 1000, text: '1s' }).default('60s'),
        timeout: duration('Give up on one ping after this long.', { ms: 100, text: '100ms' }).default('10s'),
        headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. Opsgenie\'s Authorization: "GenieKey ${OPSGENIE_API_KEY}".'),
      })
      .optional()
      .describe("Dead man's switch: an outside service pages when these pings stop (Vigil, its host or its network down, or Vigil unhealthy)."),
    control: z
      .strictObject({
        url: z
          .string()
          .regex(/^https?:\/\/\S+$/, { error: withHint('not an http(s) URL', 'a URL that always answers, e.g. https://www.gstatic.com/generate_204 or the gateway\'s health route') })
          .describe('A URL that normally answers (any HTTP status counts): checked when a provider probe fails without an answer.'),
        timeout: duration('Give up on one control check after this long.', { ms: 100, text: '100ms' }).default('5s'),
      })
      .optional()
      .describe("Egress control: when this URL and every provider fail together it is Vigil's own network or DNS: one incident to Vigil's owner, provider probes recorded unknown, no provider paged."),
    detectors: detectorsConfigSchema.optional(),
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
    locations: z
      .array(locationName)
      .min(1)
      .optional()
      .describe('Locations that run this probe (default: every instance runs it).'),
    labels: z
      .record(
        z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: withHint('not a valid label name', 'label names are letters, digits and "_" (Prometheus rules)') }),
        z.string(),
      )
      .optional()
      .describe('Extra labels for metrics, routing and silences (keep values few and fixed).'),
    headers: headers.optional(),
    assert: z.array(assertionSchema).optional().describe('Checks on the answer; all must pass.'),
    latency: latencyConfigSchema.optional().describe('Diurnal latency detector: hour-of-week baseline, SLO ceiling and floor.'),
  })
  .describe('One canary probe.');

export const probesFileSchema = z
  .strictObject({ probes: z.array(probeSchema).default([]).describe('Probe definitions; ids are unique across all files.') })
  .describe('A file of probes (probes/*.yaml).');

// ---------------------------------------------------------------------------------------------------
// scenarios/*.yaml: fault-injection drills (steady state → faults → verify → rollback; src/chaos/drill.ts runs
// them). Fault specs are the chaos proxy's own schema (src/chaos/faults.ts), so a scenario and the proxy's
// control API accept exactly the same faults.

const steadyCheck = z
  .strictObject({
    probe: id('probe id').describe('A probe id from probes/*.yaml, run now (marked as drill traffic, without the drill header).'),
    outcome: z
      .enum(['ok', 'ok_or_degraded'])
      .default('ok')
      .describe('What the probe must report: ok, or ok_or_degraded (slow or a soft assertion failed is still steady).'),
    served_by: z
      .string()
      .min(1)
      .optional()
      .describe('Gateway target that must serve (glob), e.g. "config.targets[0]": the primary, so a fault that leaks to other traffic or a primary that already fails over shows.'),
  })
  .describe('One steady-state condition: a probe that must pass.');

const latencyBound = z
  .string()
  .regex(/^\s*<=?\s*\d+(\.\d+)?\s*$/, {
    error: (iss) => withHint(`expected a bound like "< 3000", got ${describeInput(iss.input)}`, 'milliseconds after "<" or "<=", e.g. extra_latency_ms: "< 3000"'),
  })
  .describe('Upper bound in milliseconds, e.g. "< 3000".');

export const drillSchema = z
  .strictObject({
    id: id('drill id'),
    name: z.string().optional().describe('Human-readable name (display only).'),
    description: z.string().optional().describe('What the drill proves (display only).'),
    owner: z.string().min(1).optional().describe('Team that owns the fallback and receives the atrophy alert (default: defaults.owner, else the first probe\'s owner).'),
    check: z
      .enum(['fallback', 'safety_bypass'])
      .default('fallback')
      .describe(
        'What the drill proves. fallback (default): the gateway falls back and the answer is good. safety_bypass: with the primary made to refuse (each fault a refusal shape, tried in turn), should-refuse probes stay refused (a fallback that answers fails the drill) and benign probes are answered (left refused: a warning).',
      ),
    primary: z
      .string()
      .min(1)
      .optional()
      .describe('safety_bypass: the primary\'s served_by (glob), when the gateway reports neither a fallback count (LiteLLM) nor an option index (Portkey).'),
    schedule: cronExpr.optional().describe('When to run (cron, evaluated in `timezone`, UTC by default), e.g. "0 10 * * 2" for Tuesdays 10:00. Use this or `manual: true`.'),
    manual: z.literal(true).optional().describe('Never scheduled; run with `vigil drill <id>`. Use this or `schedule`.'),
    timezone: timezone.optional().describe('Time zone for `schedule` (default UTC: DST changes skip or repeat local times).'),
    target: z
      .string()
      .regex(/^(provider:[a-z0-9][a-z0-9_-]*|gateway)$/, {
        error: (iss) => withHint(`expected "provider:<name>" or "gateway", got ${describeInput(iss.input)}`, 'usually "gateway": the drill probes go through the gateway whose upstream is the fault proxy'),
      })
      .optional()
      .describe('Where the drill\'s probes go (checked: every probe in `probes` must have this target).'),
    faults: z
      .array(faultSchema)
      .default([])
      .describe('Faults injected through the chaos proxy for the drill (each with its own TTL, default: abort.max_duration). Same shape as POST /proxy/_faults.'),
    scope: z
      .enum(['drill', 'upstream'])
      .default('drill')
      .describe('drill (default): faults only hit requests carrying this run\'s `x-vigil-drill` header (the gateway must forward it); upstream: refused by the fault proxy, which faults only requests carrying a drill\'s header (the run ends in error, nothing injected).'),
    native: z
      .enum(['litellm_mock_fallbacks'])
      .optional()
      .describe('A gateway-native drill: litellm_mock_fallbacks sends `mock_testing_fallbacks: true` so LiteLLM fails the primary itself. Proves the fallback config only, never a real failover.'),
    headers: headers.optional().describe('Extra request headers on the drill\'s attempts only (e.g. a drill-only `x-portkey-config`).'),
    steady_state: z.array(steadyCheck).default([]).describe('Must hold before the fault (else the drill is skipped, saying why) and again after rollback.'),
    probes: z.array(id('probe id')).min(1).describe('Probes run during the fault, marked as drill traffic.'),
    repeat: z.number().int().min(1).max(20).default(3).describe('Attempts of each probe during the fault.'),
    interval: duration('Pause between attempts.').default('1s'),
    baseline: z
      .enum(['measure', 'history'])
      .default('measure')
      .describe('Baseline latency: measure (run the probes once before the fault) or history (median of the last 20 ok results).'),
    expect: z
      .strictObject({
        served_by: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
          .optional()
          .describe('Gateway target that must serve ("config.targets[1]" for Portkey, the model id for LiteLLM); a list allows any; "*" globs.'),
        model: z.string().min(1).optional().describe('Served model (glob, e.g. "gpt-4o-mini*").'),
        provider: z.string().min(1).optional().describe('Provider the gateway reports serving (e.g. "openai").'),
        outcome: z.enum(['ok', 'ok_or_degraded']).default('ok').describe('Outcome each attempt must have.'),
        extra_latency_ms: latencyBound.optional().describe('Budget for the fallback: median time to first token during the fault minus the baseline.'),
        assertions: z.enum(['pass', 'ignore']).default('pass').describe("pass: the fallback answer must pass the probe's assertions."),
      })
      .default({ outcome: 'ok', assertions: 'pass' })
      .describe('What the fallback must look like.'),
    abort: z
      .strictObject({
        steady_state: z.array(steadyCheck).default([]).describe('Checked before every attempt while faults are active; any break aborts the drill (faults cleared).'),
        max_duration: duration('Abort the drill after this long (faults cleared; also the default fault TTL).', { ms: 1000, text: '1s' }).default('120s'),
      })
      .default({ steady_state: [], max_duration: '120s' })
      .describe('When to stop early.'),
    severity: z.enum(['warning', 'critical']).default('warning').describe('Severity of the atrophy alert when the drill fails.'),
  })
  .superRefine((d, ctx) => {
    if (d.schedule === undefined && d.manual === undefined) {
      ctx.addIssue({ code: 'custom', message: withHint('missing `schedule` or `manual: true`', 'e.g. schedule: "0 10 * * 2" (Tuesdays 10:00 UTC) or manual: true') });
    } else if (d.schedule !== undefined && d.manual !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['manual'], message: withHint('`manual` and `schedule` together', 'a drill is either scheduled or manual; drop one') });
    }
    if (d.check === 'safety_bypass') {
      const fallbackOnly = (['served_by', 'model', 'provider', 'extra_latency_ms'] as const).filter((k) => d.expect[k] !== undefined);
      if (fallbackOnly.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['expect', fallbackOnly[0]], message: withHint(`expect.${fallbackOnly[0]} does not apply to a safety_bypass drill`, 'it judges each answer by whether it refuses and which target served it; drop `expect`') });
      }
    } else if (d.primary !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['primary'], message: withHint('`primary` applies to safety_bypass drills only', 'add `check: safety_bypass`, or drop `primary`') });
    }
    if (d.check === 'safety_bypass' && d.native !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['native'], message: withHint('a safety_bypass drill needs a real refusal on the primary, not a mock', 'inject one with faults, e.g. - { upstream: anthropic, kind: http_status, status: 400, message: "Output blocked by content filtering policy" }') });
    }
    if (d.faults.length === 0 && d.native === undefined) {
      ctx.addIssue({ code: 'custom', path: ['faults'], message: withHint('a drill needs at least one fault', 'e.g. - { upstream: anthropic, kind: http_status, status: 529, ttl: 2m }, or native: litellm_mock_fallbacks') });
    }
    d.faults.forEach((f, i) => {
      const ttlMs = f.ttl === undefined ? null : typeof f.ttl === 'number' ? f.ttl : parseDuration(f.ttl);
      if (ttlMs !== null && ttlMs > 600_000) {
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'ttl'], message: withHint('ttl is longer than 10m', 'the proxy refuses faults that could outlive a drill by that much') });
      } else if (ttlMs !== null && ttlMs < 1000) {
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'ttl'], message: withHint('ttl is shorter than 1s', 'give the drill time to run, e.g. ttl: 2m') });
      }
    });
  })
  .describe('A fault-injection drill that proves a fallback path still works.');

export const scenariosFileSchema = z
  .strictObject({ drills: z.array(drillSchema).default([]).describe('Drill definitions; ids are unique across all files.') })
  .describe('A file of drills (scenarios/*.yaml).');

// ---------------------------------------------------------------------------------------------------
// alerts/*.yaml: the incidents engine's config (src/incidents/config.ts maps it for the engine).

const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: withHint('not a valid label name', 'label names are letters, digits and "_" (Prometheus rules)') });

// RE2 syntax (linear-time matching): see src/config/regex.ts.
const regexValue = z.string().superRefine((re, ctx) => {
  const problem = regexProblem(re, { anchored: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const matchers = (what: string) =>
  z.record(labelName, z.string()).describe(`${what}: label = value, all must hold (labels: severity, owner, provider, model, detector, probe, key, and a probe's own labels).`);
const matchersRe = (what: string) =>
  z.record(labelName, regexValue).describe(`${what}: label matches the regular expression (anchored at both ends, as in Alertmanager).`);

const severities = ['critical', 'warning', 'info'] as const;
const receiverKinds = ['pagerduty', 'slack', 'console'] as const;
const instant = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)), {
    error: (iss) => withHint(`expected an ISO 8601 time with a zone, got ${describeInput(iss.input)}`, 'e.g. "2026-11-24T00:00:00Z" or "2026-11-24T01:00:00+01:00"'),
  })
  .describe('ISO 8601 instant with a zone, e.g. "2026-11-24T00:00:00Z".');

export const escalationSchema = z
  .strictObject({
    page_after: duration('Hold PagerDuty back until an alert group has been firing this long (Slack hears at once).').optional(),
    page_at_once: z.array(z.enum(severities)).optional().describe('Severities that page at once, whatever page_after says (default [critical]).'),
  })
  .describe('When to page: Slack first, PagerDuty after `page_after`, at once for `page_at_once` severities.');

export const ownerSchema = z
  .strictObject({
    slack: z.string().min(1).optional().describe('Slack channel (name like "#search-oncall" or id like "C0123456").'),
    pagerduty: z.string().optional().describe('PagerDuty Events API v2 routing key, normally "${PD_..._ROUTING_KEY}" (empty, e.g. from "${PD_KEY:-}", means not configured: alerts for PagerDuty fall back to the console). Never printed or stored.'),
    runbook: url.optional().describe('Runbook URL linked from every notification to this team.'),
    escalation: escalationSchema.optional().describe('Overrides the top-level `escalation` for this team.'),
  })
  .describe('How to reach a team: its alerts go here when a route names `slack` or `pagerduty`.');

export const receiversSchema = z
  .strictObject({
    slack: z
      .strictObject({
        token: z.string().describe('Bot token (xoxb-…), normally "${SLACK_BOT_TOKEN}" (empty, e.g. from "${SLACK_BOT_TOKEN:-}", means not configured: Slack alerts fall back to the console). Never printed or stored.'),
        api_url: url.optional().describe('Slack Web API base URL (default https://slack.com/api/; GovSlack or a test server).'),
      })
      .optional(),
    pagerduty: z
      .strictObject({
        server: z
          .string()
          .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, { error: withHint('expected a host name', 'e.g. "events.pagerduty.com" or "events.eu.pagerduty.com" (no scheme, no path)') })
          .optional()
          .describe('Events API host (default events.pagerduty.com; events.eu.pagerduty.com for the EU service region).'),
      })
      .optional(),
    console: z.strictObject({}).optional().describe('Print notifications to the log (demo).'),
  })
  .describe('Settings shared by every team for each receiver kind (tokens, API hosts).');

export const routeSchema = z
  .strictObject({
    match: matchers('Equality matchers').optional(),
    match_re: matchersRe('Regex matchers').optional(),
    notify: z.array(z.enum(receiverKinds)).min(1).describe('Receiver kinds to notify; each is built from the owner of the alert (owners.<team>.slack, .pagerduty).'),
    group_by: z.array(labelName).optional().describe('Labels whose values put alerts into one notification (default defaults.group_by, [provider, detector]); `owner` is always implied.'),
    group_wait: duration('Wait this long after a group starts before its first notification (collects its siblings).').optional(),
    group_interval: duration('Batch later changes of a group (new alerts, resolves) into one notification this often.').optional(),
    repeat_interval: duration('Remind about a group that is still firing this often (Slack and console; PagerDuty never repeats).').optional(),
    continue: z.boolean().default(false).describe('Keep matching later routes after this one (Alertmanager `continue`).'),
  })
  .describe('Alerts whose labels match go to `notify`; first match wins unless `continue`.');

export const silenceSchema = z
  .strictObject({
    id: z.string().min(1).max(64).optional().describe('Stable id (default: derived from the file position).'),
    matchers: matchers('Equality matchers').optional(),
    matchers_re: matchersRe('Regex matchers').optional(),
    starts_at: instant,
    ends_at: instant,
    comment: z.string().min(1).describe('Why (shown with the silence).'),
    created_by: z.string().min(1).describe('Who.'),
  })
  .superRefine((s, ctx) => {
    if (Date.parse(s.ends_at) <= Date.parse(s.starts_at)) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'ends_at must be after starts_at' });
    if (!Object.keys({ ...s.matchers, ...s.matchers_re }).length) {
      ctx.addIssue({ code: 'custom', message: withHint('a silence needs at least one matcher', 'e.g. `matchers: { provider: gemini }`; silencing everything is never what one means') });
    }
  })
  .describe('Mute notifications of matching alerts for a time range (resolves of what was already sent still go out).');

export const maintenanceSchema = z
  .strictObject({
    name: z.string().min(1).describe('Name shown in logs and the API.'),
    matchers: matchers('Equality matchers').optional(),
    matchers_re: matchersRe('Regex matchers').optional(),
    cron: cronExpr.optional().describe('Recurring start (cron, in `timezone`); the window lasts `duration`.'),
    duration: duration('Length of each recurring window.').optional(),
    timezone: timezone.default('UTC'),
    starts_at: instant.optional().describe('One-off window start.'),
    ends_at: instant.optional().describe('One-off window end.'),
    mode: z.enum(['mute', 'pause']).default('mute').describe('mute: probes run and are recorded, nobody is notified; pause: matching probes do not run (saves tokens).'),
  })
  .superRefine((m, ctx) => {
    const recurring = m.cron !== undefined || m.duration !== undefined;
    const oneOff = m.starts_at !== undefined || m.ends_at !== undefined;
    if (recurring && oneOff) {
      ctx.addIssue({ code: 'custom', message: withHint('use either cron + duration or starts_at + ends_at', 'one window per item; add another item for the other kind') });
    } else if (recurring) {
      if (m.cron === undefined) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'missing required field `cron` (a recurring window needs cron and duration)' });
      if (m.duration === undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'missing required field `duration` (a recurring window needs cron and duration)' });
    } else if (oneOff) {
      if (m.starts_at === undefined) ctx.addIssue({ code: 'custom', path: ['starts_at'], message: 'missing required field `starts_at`' });
      if (m.ends_at === undefined) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'missing required field `ends_at`' });
      if (m.starts_at && m.ends_at && Date.parse(m.ends_at) <= Date.parse(m.starts_at)) {
        ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'ends_at must be after starts_at' });
      }
    } else {
      ctx.addIssue({ code: 'custom', message: withHint('a maintenance window needs a time', 'recurring: `cron: "0 2 * * 0"` with `duration: 1h`; one-off: `starts_at` and `ends_at`') });
    }
  })
  .describe('A one-off or recurring window in which matching alerts are muted, or matching probes paused.');

export const inhibitRuleSchema = z
  .strictObject({
    source: matchers('Alerts that inhibit (equality)').optional(),
    source_re: matchersRe('Alerts that inhibit (regex)').optional(),
    target: matchers('Alerts that are inhibited (equality)').optional(),
    target_re: matchersRe('Alerts that are inhibited (regex)').optional(),
    equal: z.array(labelName).default([]).describe('Labels that must have the same value on source and target.'),
  })
  .describe('While a matching source alert fires, matching targets create no notifications (their resolves still go out).');

export const alertDefaultsSchema = z
  .strictObject({
    notify: z.array(z.enum(receiverKinds)).min(1).default(['slack']).describe('Receivers for alerts that no route matches.'),
    vigil_owner: z
      .string()
      .min(1)
      .optional()
      .describe("Owner of Vigil's own alerts (a crash, its own egress, one location failing alone); default: the first owner listed."),
    watchdog: z
      .boolean()
      .default(false)
      .describe(
        "An always-firing info alert 'Watchdog' (detector watchdog) for Vigil's owner, re-sent every repeat_interval while the incident engine and outbox work; route it (match: { detector: watchdog }) to a dead man's switch that pages when it stops.",
      ),
    group_by: z.array(labelName).default(['provider', 'detector']).describe('Default grouping labels.'),
    group_wait: duration('Default group_wait.').default('30s'),
    group_interval: duration('Default group_interval.').default('5m'),
    repeat_interval: duration('Default repeat_interval.').default('4h'),
    expire_after: duration('Give up delivering a notification after this long; a resolve gets twice as long, so it outlives the trigger it follows.').default('24h'),
    flap: z
      .strictObject({
        flips: z.number().int().min(2).max(100).default(4).describe('State changes within `window` that make an alert flapping.'),
        window: duration('Window for counting flips; a flapping alert stays firing until quiet this long.').default('30m'),
      })
      .default({ flips: 4, window: '30m' }),
    availability: z
      .strictObject({
        failure_threshold: z.number().int().min(1).max(100).default(1).describe('Consecutive confirmed failures that open an incident (each is already confirmed by a re-probe).'),
        success_threshold: z.number().int().min(1).max(100).default(2).describe('Consecutive successes that resolve it.'),
        degraded_threshold: z.number().int().min(0).max(100).default(0).describe('Consecutive degraded results that raise a warning (0: never).'),
        for: duration('Keep a new incident pending this long before it fires.').default('0s'),
      })
      .default({ failure_threshold: 1, success_threshold: 2, degraded_threshold: 0, for: '0s' })
      .describe('The availability detector (probe failures).'),
  })
  .describe('Timings shared by every route, flap damping, delivery expiry, detector thresholds.');

export const alertsFileSchema = z
  .strictObject({
    owners: z.record(z.string().min(1), ownerSchema).optional().describe('Teams by name (the `owner` of probes).'),
    receivers: receiversSchema.optional(),
    routes: z.array(routeSchema).optional().describe('Routing rules, first match wins unless `continue`; unmatched alerts go to defaults.notify.'),
    silences: z.array(silenceSchema).optional().describe('Silences (more can be created with POST /api/silences).'),
    maintenance: z.array(maintenanceSchema).optional().describe('Maintenance windows.'),
    inhibit_rules: z.array(inhibitRuleSchema).optional().describe('Inhibition rules.'),
    escalation: escalationSchema.optional().describe('Escalation for teams that set none (default: page at once).'),
    defaults: alertDefaultsSchema.optional(),
  })
  .describe('Alerting: owners, receivers, routes, silences, maintenance, inhibition (alerts/*.yaml).');

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
    // The validator the assertion will use, compiled and cached now (ajv loads with the first schema).
    compileSchema(schema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
