// What an OpenAI-compatible gateway does to talk to other providers: OpenAI chat request → Anthropic/Gemini
// request, and their answers (JSON or SSE) back into OpenAI chat.completion(.chunk) objects.

export type UpstreamProvider = 'openai' | 'anthropic' | 'gemini';
export type Flavour = 'litellm' | 'portkey';

export interface ChatRequest {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  temperature?: unknown;
  [k: string]: unknown;
}

interface Msg {
  role: string;
  text: string;
}

function flatten(messages: unknown): Msg[] {
  if (!Array.isArray(messages)) return [];
  return messages.map((m) => {
    const c = (m as { content?: unknown })?.content;
    const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';
    return { role: String((m as { role?: unknown })?.role ?? 'user'), text };
  });
}

/** The provider's name as each gateway reports it (`x-portkey-provider`, LiteLLM's exception prefix). */
export function providerLabel(p: UpstreamProvider, flavour: Flavour): string {
  if (flavour === 'portkey') return p === 'gemini' ? 'google' : p;
  return p;
}

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Build the upstream call for `target` from the client's OpenAI chat request. */
export function buildUpstreamRequest(
  provider: UpstreamProvider,
  baseUrl: string,
  model: string,
  apiKey: string,
  req: ChatRequest,
  stream: boolean,
): UpstreamRequest {
  const base = baseUrl.replace(/\/+$/, '');
  const maxTokens = typeof req.max_completion_tokens === 'number' ? req.max_completion_tokens : typeof req.max_tokens === 'number' ? req.max_tokens : null;
  if (provider === 'openai') {
    return {
      url: `${base}/v1/chat/completions`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ ...req, model }),
    };
  }
  const msgs = flatten(req.messages);
  const system = msgs.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.text).join('\n');
  const turns = msgs.filter((m) => m.role !== 'system' && m.role !== 'developer');
  if (provider === 'anthropic') {
    const body: Record<string, unknown> = {
      model,
      max_tokens: maxTokens ?? 4096,
      messages: turns.map((m) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.text })),
    };
    if (system) body.system = system;
    if (typeof req.temperature === 'number') body.temperature = req.temperature;
    if (stream) body.stream = true;
    return {
      url: `${base}/v1/messages`,
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    };
  }
  const body: Record<string, unknown> = {
    contents: turns.map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.text }] })),
  };
  if (system) body.systemInstruction = { parts: [{ text: system }] };
  const gen: Record<string, unknown> = {};
  if (maxTokens !== null) gen.maxOutputTokens = maxTokens;
  if (typeof req.temperature === 'number') gen.temperature = req.temperature;
  if (Object.keys(gen).length > 0) body.generationConfig = gen;
  const m = encodeURIComponent(model);
  return {
    url: stream ? `${base}/v1beta/models/${m}:streamGenerateContent?alt=sse` : `${base}/v1beta/models/${m}:generateContent`,
    headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
    body: JSON.stringify(body),
  };
}

export function anthropicFinish(stop: unknown): string {
  switch (stop) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function geminiFinish(reason: unknown): string {
  switch (reason) {
    case 'STOP':
      return 'stop';
    case 'MAX_TOKENS':
      return 'length';
    default:
      return 'content_filter';
  }
}

interface Usage {
  prompt: number;
  completion: number;
}

function completion(flavour: Flavour, provider: UpstreamProvider, id: string, created: number, model: string, text: string, finish: string, u: Usage): unknown {
  if (flavour === 'portkey') {
    // Shape recorded from the real Portkey gateway (transcripts/gateway/portkey-anthropic-as-openai).
    return {
      id,
      object: 'chat.completion',
      created,
      model,
      provider: providerLabel(provider, flavour),
      choices: [{ message: { role: 'assistant', content: text }, index: 0, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion, prompt_tokens_details: { cached_tokens: 0 } },
    };
  }
  return {
    id,
    created,
    model,
    object: 'chat.completion',
    system_fingerprint: null,
    choices: [{ finish_reason: finish, index: 0, message: { content: text, role: 'assistant', tool_calls: null, function_call: null } }],
    usage: { completion_tokens: u.completion, prompt_tokens: u.prompt, total_tokens: u.prompt + u.completion, completion_tokens_details: null, prompt_tokens_details: null },
  };
}

/** Translate a non-stream 200 body from `provider` into an OpenAI chat.completion. Throws on unparseable input. */
export function toChatCompletion(provider: UpstreamProvider, flavour: Flavour, raw: string, created: number, fallbackModel: string, newId: () => string): unknown {
  const body = JSON.parse(raw);
  if (provider === 'anthropic') {
    const text = Array.isArray(body.content) ? body.content.filter((c: { type?: string }) => c.type === 'text').map((c: { text: string }) => c.text).join('') : '';
    // Portkey keeps Anthropic's message id; LiteLLM mints its own chatcmpl id.
    const id = flavour === 'portkey' && body.id ? body.id : `chatcmpl-${newId()}`;
    return completion(flavour, provider, id, created, body.model ?? fallbackModel, text, anthropicFinish(body.stop_reason), {
      prompt: body.usage?.input_tokens ?? 0,
      completion: body.usage?.output_tokens ?? 0,
    });
  }
  if (provider === 'gemini') {
    const cand = body.candidates?.[0];
    const parts: { text?: string; thought?: boolean }[] = cand?.content?.parts ?? [];
    const text = parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
    const finish = body.promptFeedback?.blockReason ? 'content_filter' : geminiFinish(cand?.finishReason ?? 'STOP');
    return completion(flavour, provider, `chatcmpl-${body.responseId ?? newId()}`, created, body.modelVersion ?? fallbackModel, text, finish, {
      prompt: body.usageMetadata?.promptTokenCount ?? 0,
      completion: body.usageMetadata?.candidatesTokenCount ?? 0,
    });
  }
  return body;
}

export interface TranslatedEvent {
  /** Bytes to send to the client (may be empty). */
  out: string;
  /** `out` carries model content. */
  content: boolean;
  /** The upstream said the stream is complete. */
  terminal: boolean;
  /** An in-stream error from the upstream (its JSON), when there was one. */
  error: unknown;
}

const NONE: TranslatedEvent = { out: '', content: false, terminal: false, error: null };

/** Turns upstream SSE events into OpenAI chunk events, one upstream event at a time. */
export class StreamTranslator {
  private readonly provider: UpstreamProvider;
  private readonly flavour: Flavour;
  private readonly includeUsage: boolean;
  private readonly created: number;
  private id: string;
  private model: string;
  private started = false;
  private finish: string | null = null;
  private usage: Usage = { prompt: 0, completion: 0 };

  constructor(provider: UpstreamProvider, flavour: Flavour, includeUsage: boolean, created: number, id: string, model: string) {
    this.provider = provider;
    this.flavour = flavour;
    this.includeUsage = includeUsage;
    this.created = created;
    this.id = id;
    this.model = model;
  }

  /** The model the upstream named in its stream (snapshot), once seen. */
  get servedModel(): string {
    return this.model;
  }

  private chunk(delta: Record<string, unknown>, finish: string | null): string {
    const c: Record<string, unknown> = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
    if (this.flavour === 'portkey') c.provider = providerLabel(this.provider, this.flavour);
    c.choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  private end(): string {
    let out = this.start() + this.chunk({}, this.finish ?? 'stop');
    if (this.includeUsage) {
      const u = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: { prompt_tokens: this.usage.prompt, completion_tokens: this.usage.completion, total_tokens: this.usage.prompt + this.usage.completion } };
      out += `data: ${JSON.stringify(u)}\n\n`;
    }
    return out + 'data: [DONE]\n\n';
  }

  /** Throws on an upstream event whose JSON does not parse (the caller treats that as a broken stream). */
  push(ev: { event?: string; data: string }): TranslatedEvent {
    if (this.provider === 'openai') {
      if (ev.data === '[DONE]') return { out: 'data: [DONE]\n\n', content: false, terminal: true, error: null };
      const j = JSON.parse(ev.data);
      if (j?.error) return { ...NONE, error: j.error };
      if (typeof j?.model === 'string') this.model = j.model;
      const content = typeof j?.choices?.[0]?.delta?.content === 'string' && j.choices[0].delta.content !== '';
      return { out: `data: ${ev.data}\n\n`, content, terminal: false, error: null };
    }
    if (this.provider === 'anthropic') {
      const j = JSON.parse(ev.data);
      switch (j?.type ?? ev.event) {
        case 'message_start':
          if (j.message?.id && this.flavour === 'portkey') this.id = j.message.id;
          if (j.message?.model) this.model = j.message.model;
          this.usage.prompt = j.message?.usage?.input_tokens ?? 0;
          return { ...NONE, out: this.start() };
        case 'content_block_delta': {
          const t = j.delta?.type === 'text_delta' ? j.delta.text : '';
          if (!t) return NONE;
          return { ...NONE, out: this.start() + this.chunk({ content: t }, null), content: true };
        }
        case 'message_delta':
          this.finish = anthropicFinish(j.delta?.stop_reason);
          this.usage.completion = j.usage?.output_tokens ?? this.usage.completion;
          return NONE;
        case 'message_stop':
          return { ...NONE, out: this.end(), terminal: true };
        case 'error':
          return { ...NONE, error: j.error ?? j };
        default:
          return NONE;
      }
    }
    const j = JSON.parse(ev.data);
    if (j?.error) return { ...NONE, error: j.error };
    if (j.modelVersion) this.model = j.modelVersion;
    if (j.usageMetadata) {
      this.usage.prompt = j.usageMetadata.promptTokenCount ?? this.usage.prompt;
      this.usage.completion = j.usageMetadata.candidatesTokenCount ?? this.usage.completion;
    }
    if (j.promptFeedback?.blockReason) {
      this.finish = 'content_filter';
      return { ...NONE, out: this.end(), terminal: true };
    }
    const cand = j.candidates?.[0];
    const parts: { text?: string; thought?: boolean }[] = cand?.content?.parts ?? [];
    const text = parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
    let out = this.start();
    if (text) out += this.chunk({ content: text }, null);
    if (cand?.finishReason) {
      this.finish = geminiFinish(cand.finishReason);
      return { out: out + this.end(), content: text !== '', terminal: true, error: null };
    }
    return { out, content: text !== '', terminal: false, error: null };
  }
}
