/**
 * views/markdown.ts: the Markdown a message's text becomes on the page (markdown-it, raw HTML off). Each feature the
 * page renders, what stays text, and every way in the XSS cases try (raw HTML, script: links, entities, images)
 * staying inert; then where it is used: the page's message markup and the html format's `edit` payload, while the
 * json, text, raw and ndjson formats keep the raw text.
 */
import { describe, expect, it } from 'bun:test';
import type { ChatMessage } from '../../lib/chat-types.ts';
import { editFrame, messageFrame, sseFrame } from '../../views/frames.ts';
import { renderMarkdown } from '../../views/markdown.ts';
import { renderMessage } from '../../views/message.tsx';
import { expectInert } from './inert-html.ts';

const REL = 'target="_blank" rel="nofollow noopener noreferrer"';
const link = (href: string, text: string) => `<a href="${href}" ${REL}>${text}</a>`;

describe('renderMarkdown: what renders', () => {
  it('bold, italic and inline code', () => {
    expect(renderMarkdown('**bold** and __bold__')).toBe('<p><strong>bold</strong> and <strong>bold</strong></p>');
    expect(renderMarkdown('*italic* and _italic_')).toBe('<p><em>italic</em> and <em>italic</em></p>');
    expect(renderMarkdown('run `bun test` now')).toBe('<p>run <code>bun test</code> now</p>');
    expect(renderMarkdown('`<b>` & `a**b**`')).toBe('<p><code>&lt;b&gt;</code> &amp; <code>a**b**</code></p>');
  });

  it('fenced and indented code blocks, escaped, with the fence language as a class', () => {
    expect(renderMarkdown('```ts\nconst ok = 1 < 2 && "x";\n```')).toBe('<pre><code class="language-ts">const ok = 1 &lt; 2 &amp;&amp; &quot;x&quot;;\n</code></pre>');
    expect(renderMarkdown('```\n**not bold** https://example.com\n```')).toBe('<pre><code>**not bold** https://example.com\n</code></pre>');
    expect(renderMarkdown('    indented line\n    another')).toBe('<pre><code>indented line\nanother\n</code></pre>');
    expect(renderMarkdown('```"><script>\nx\n```')).toBe('<pre><code class="language-&quot;&gt;&lt;script&gt;">x\n</code></pre>');
  });

  it('bulleted and numbered lists', () => {
    expect(renderMarkdown('- one\n- two')).toBe('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
    expect(renderMarkdown('* one\n* **two**')).toBe('<ul>\n<li>one</li>\n<li><strong>two</strong></li>\n</ul>');
    expect(renderMarkdown('1. one\n2. two')).toBe('<ol>\n<li>one</li>\n<li>two</li>\n</ol>');
    expect(renderMarkdown('3. three\n4. four')).toBe('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>');
    expect(renderMarkdown('todo:\n- a\n- b')).toBe('<p>todo:</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>');
  });

  it('links, bare URLs and <autolinks>, opening in a new tab with nofollow noopener noreferrer', () => {
    expect(renderMarkdown('[the runbook](https://example.com/run?a=1&b=2)')).toBe(`<p>${link('https://example.com/run?a=1&amp;b=2', 'the runbook')}</p>`);
    expect(renderMarkdown('see https://example.com/x.')).toBe(`<p>see ${link('https://example.com/x', 'https://example.com/x')}.</p>`);
    expect(renderMarkdown('<http://example.com>')).toBe(`<p>${link('http://example.com', 'http://example.com')}</p>`);
    expect(renderMarkdown('[mail me](mailto:ann@example.com)')).toBe(`<p>${link('mailto:ann@example.com', 'mail me')}</p>`);
    expect(renderMarkdown('[**bold** link](https://example.com)')).toBe(`<p>${link('https://example.com', '<strong>bold</strong> link')}</p>`);
  });

  it('a line break is a line break (chat lines), and a blank line a new paragraph', () => {
    expect(renderMarkdown('one\ntwo')).toBe('<p>one<br>\ntwo</p>');
    expect(renderMarkdown('one\n\ntwo')).toBe('<p>one</p>\n<p>two</p>');
  });

  it('ends without a newline, and plain text is one paragraph of itself', () => {
    expect(renderMarkdown('hello')).toBe('<p>hello</p>');
    expect(renderMarkdown('100% sure, 2 < 3 > 1 "quoted" \'single\'')).toBe('<p>100% sure, 2 &lt; 3 &gt; 1 &quot;quoted&quot; \'single\'</p>');
  });
});

describe('renderMarkdown: what stays text', () => {
  it('a line starting with # is no heading, nor a line under ===', () => {
    expect(renderMarkdown('# not a heading')).toBe('<p># not a heading</p>');
    expect(renderMarkdown('## #general is busy')).toBe('<p>## #general is busy</p>');
    expect(renderMarkdown('Title\n===')).toBe('<p>Title<br>\n===</p>');
  });

  it('no rule, table, quote, strikethrough or reference definition', () => {
    expect(renderMarkdown('---')).toBe('<p>---</p>');
    expect(renderMarkdown('a\n---')).toBe('<p>a<br>\n---</p>');
    expect(renderMarkdown('| a | b |\n|---|---|\n| 1 | 2 |')).toBe('<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>');
    expect(renderMarkdown('> quoted')).toBe('<p>&gt; quoted</p>');
    expect(renderMarkdown('~~struck~~')).toBe('<p>~~struck~~</p>');
    expect(renderMarkdown('[1]: https://example.com')).toBe(`<p>[1]: ${link('https://example.com', 'https://example.com')}</p>`);
  });

  it('an image is a link to it, never an <img>', () => {
    expect(renderMarkdown('![a cat](https://example.com/cat.png)')).toBe(`<p>!${link('https://example.com/cat.png', 'a cat')}</p>`);
    expect(renderMarkdown('![x](javascript:alert(1))')).toBe('<p>![x](javascript:alert(1))</p>');
  });

  it('HTML entities as typed: &lt; shows as &lt;, not as <', () => {
    expect(renderMarkdown('&lt;script&gt; &amp; &#x3C; &#60; &copy;')).toBe('<p>&amp;lt;script&amp;gt; &amp;amp; &amp;#x3C; &amp;#60; &amp;copy;</p>');
  });

  it('names without a scheme, file names and addresses are no links (only http, https and mailto URLs are)', () => {
    for (const text of ['example.com', 'README.md', 'www.example.com', 'ann@example.com', '192.168.0.1', 'ftp://example.com/x', '//example.com/x']) {
      expect(renderMarkdown(text)).not.toContain('<a');
    }
  });
});

describe('renderMarkdown: every XSS case stays inert', () => {
  const CASES = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '<iframe src="https://example.com"></iframe>',
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x](  javascript:alert(1)  )',
    '[x](<javascript:alert(1)>)',
    '[x](jav&#x61;script:alert(1))',
    '[x](jav&#97;script&colon;alert(1))',
    '[x](java\\script:alert(1))',
    '[x](%6Aavascript:alert(1))',
    '[x](vbscript:msgbox(1))',
    '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '[x](data:image/png;base64,iVBORw0KGgo=)',
    '[x](file:///etc/passwd)',
    '[x](/rooms/other)',
    '[x](//evil.example/x)',
    '[x]: javascript:alert(1)\n\n[x]',
    '<javascript:alert(1)>',
    '<vbscript:alert(1)>',
    '<data:text/html,<script>alert(1)</script>>',
    'javascript:alert(1)',
    '![x](https://example.com/x.png" onerror="alert(1))',
    '[x](https://example.com "a\\" onmouseover=\\"alert(1)")',
    '[x](https://example.com "<script>")',
    '[<img src=x onerror=alert(1)>](https://example.com)',
    '`<script>alert(1)</script>`',
    '```<script>\n<script>alert(1)</script>\n```',
    '    <script>alert(1)</script>',
    '- <script>alert(1)</script>\n- [x](javascript:alert(1))',
    '**<img src=x onerror=alert(1)>**',
    'https://example.com/"><script>alert(1)</script>',
    'https://example.com/<script>',
    '\u0000<script>\u202e',
  ];

  it('no tag, attribute or scheme outside the allow-list, for any of them', () => {
    for (const text of CASES) expectInert(renderMarkdown(text));
  });

  it('script: and other schemes make no link at all, whatever the spelling', () => {
    for (const text of CASES.filter((t) => /script|data:|file:|\/rooms|\/\/evil/i.test(t) && !/^`|^```|^    /.test(t))) {
      expect(renderMarkdown(text)).not.toMatch(/href="(?!https?:|mailto:)/i);
    }
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>');
    expect(renderMarkdown('<javascript:alert(1)>')).toBe('<p>&lt;javascript:alert(1)&gt;</p>');
    expect(renderMarkdown('[x](/rooms/other)')).toBe('<p>[x](/rooms/other)</p>');
    // A link with no URL at all is no link either: markdown-it keeps it with an empty href; the text stays.
    expect(renderMarkdown('[x]()')).toBe('<p>x</p>');
    expect(renderMarkdown('![x]()')).toBe('<p>!x</p>');
  });

  it('raw HTML comes out as text', () => {
    expect(renderMarkdown('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(renderMarkdown('<b>hi</b>')).toBe('<p>&lt;b&gt;hi&lt;/b&gt;</p>');
  });

  it('a quote in a link title or URL stays inside its attribute', () => {
    expect(renderMarkdown('[x](https://example.com "a\\" onmouseover=\\"alert(1)")')).toBe(
      `<p><a href="https://example.com" title="a&quot; onmouseover=&quot;alert(1)" ${REL}>x</a></p>`,
    );
    expect(renderMarkdown('https://example.com/a"b')).toBe(`<p>${link('https://example.com/a', 'https://example.com/a')}&quot;b</p>`);
  });

  // The server renders history for every stream that opens: a text that takes long is a way to stall it. (A bare
  // URL of 4000 characters took 80 ms in linkify-it's URL pattern on Bun before its maxLength came down to 2048.)
  it('the longest texts of the worst shapes render, and never hang', () => {
    const worst = ['*'.repeat(4000), '_'.repeat(4000), '['.repeat(4000), '`'.repeat(4000), '[a]('.repeat(1000), 'a**'.repeat(1333),
      '- '.repeat(2000), '1. '.repeat(1333), Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i % 40)}- x`).join('\n'),
      '<'.repeat(4000), '&'.repeat(4000), 'https://a.b/'.repeat(333), `https://a.b/${'a-'.repeat(1990)}`, '*a '.repeat(1333),
      '\n\n\nx'.repeat(1000), '![['.repeat(1333), '\\'.repeat(4000)];
    for (const text of worst) {
      expectInert(renderMarkdown(text)); // once to warm up
      const started = performance.now();
      renderMarkdown(text);
      // A guard against a pattern that backtracks without end (seconds), not a speed target: those live in the bench.
      expect(performance.now() - started, JSON.stringify(text.slice(0, 40))).toBeLessThan(1000);
    }
  });
});

describe('where the page uses it', () => {
  const message: ChatMessage = { id: '42', room: 'main', name: 'ann', text: '**hi** <b>there</b>\n- `one`', ts: Date.UTC(2026, 0, 2, 3, 4, 5), client: 'secret' };

  it("a message's text on the page is its Markdown, in a <div class=\"text\"> (paragraphs and lists inside)", () => {
    expect(renderMessage(message)).toContain(`<div class="text">${renderMarkdown(message.text)}</div>`);
    expect(renderMessage(message)).toContain('<div class="text"><p><strong>hi</strong> &lt;b&gt;there&lt;/b&gt;</p>\n<ul>\n<li><code>one</code></li>\n</ul></div>');
    expect(messageFrame(message, 'html')).toBe(sseFrame(renderMessage(message), { id: '42' }));
  });

  it('json, text, raw and ndjson keep the raw text', () => {
    expect(JSON.parse(messageFrame(message, 'json').split('\ndata: ')[1]!).text).toBe(message.text);
    expect(messageFrame(message, 'text')).toContain('ann: **hi** <b>there</b>\ndata:     - `one`');
    expect(messageFrame(message, 'raw')).toContain('ann: **hi** <b>there</b>\n    - `one`');
    expect(JSON.parse(messageFrame(message, 'ndjson')).text).toBe(message.text);
  });

  it("an edit's html payload carries the rendered text too; the other formats' do not", () => {
    const edited = { ...message, edited: message.ts + 1000 };
    const payload = { room: 'main', id: '42', text: message.text, edited: edited.edited };
    expect(editFrame(edited, 'html')).toBe(sseFrame(JSON.stringify({ ...payload, html: renderMarkdown(message.text) }), { event: 'edit' }));
    expect(editFrame(edited, 'json')).toBe(sseFrame(JSON.stringify(payload), { event: 'edit' }));
    expect(JSON.parse(editFrame(edited, 'ndjson'))).toEqual({ event: 'edit', ...payload });
  });
});
