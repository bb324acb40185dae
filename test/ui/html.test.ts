import { describe, expect, it } from 'vitest';
import { esc, html, link, raw, safeHref } from '../../src/ui/html.ts';

describe('html escaping', () => {
  it('escapes every interpolated string, in content and attributes', () => {
    const id = `<script>alert("x")</script>' onmouseover='x' \`&`;
    const out = html`<td title="${id}">${id}</td>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/title="[^"]*"[^>]*onmouseover/);
    expect(out).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;&amp;</td>',
    );
  });

  it('does not escape nested fragments twice; joins arrays; drops null, undefined and false', () => {
    const inner = html`<b>${'a&b'}</b>`;
    expect(html`<p>${inner}${[html`<i>1</i>`, '<2>']}${null}${undefined}${false}${0}</p>`.value).toBe('<p><b>a&amp;b</b><i>1</i>&lt;2&gt;0</p>');
    expect(raw('<br>').value).toBe('<br>');
    expect(esc(null)).toBe('');
  });

  it('only links http(s) and same-site paths', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<b>')).toBeNull();
    expect(safeHref('//evil.example/x')).toBeNull();
    expect(safeHref('/status/heatmap?tz=UTC')).toBe('/status/heatmap?tz=UTC');
    expect(safeHref('https://platform.openai.com/docs/deprecations')).toBe('https://platform.openai.com/docs/deprecations');
    expect(link('javascript:alert(1)', 'notice').value).toBe('notice');
    expect(link('https://x.example/a"b', 'n').value).toContain('href="https://x.example/a%22b"');
  });
});
