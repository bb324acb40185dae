// HTML built by a tagged template that escapes every interpolated value unless it is already Html. Probe ids,
// model names, excerpts and incident summaries are user- or model-controlled: nothing reaches the page unescaped.

/** A fragment that is already safe HTML (built by `html` or explicitly trusted with `raw`). */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for element content and quoted attribute values alike. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"'`]/g, (c) => ESC[c]);
}

/** Trust a literal string (only for constants written in this code base). */
export function raw(s: string): Html {
  return new Html(s);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(v);
}

/** `html\`<td>${probeId}</td>\`` escapes probeId; arrays are joined; null/undefined/false render nothing. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** An href only when it is http(s) or a same-site path; anything else (javascript:, data:) is refused. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A link when the URL is safe, plain text otherwise. */
export function link(url: string | null | undefined, text: string): Html {
  const href = safeHref(url);
  return href ? html`<a href="${href}" rel="noopener noreferrer">${text}</a>` : html`${text}`;
}
