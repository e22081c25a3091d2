import assert from 'node:assert/strict';
import { chunkText, detectDocumentFormat, htmlToText } from '../../core/chunking';
import { seededRandom } from '../support/random';

/** Words of random letters, each made unique by its position so an overlap can only match one way. */
function randomWords(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyzäöüé';
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(random() * 7);
    let word = '';
    for (let j = 0; j < length; j++) word += letters[Math.floor(random() * letters.length)];
    words.push(`${word}${i}`);
  }
  return words;
}

/** Random spacing between words: mostly one space, sometimes three (an overlap must exceed the longest word plus its spaces). */
function randomText(seed: number, words: string[]): string {
  const random = seededRandom(seed ^ 0x5bd1e995);
  return words.map((w, i) => (i === 0 ? w : `${random() < 0.15 ? '   ' : ' '}${w}`)).join('');
}

/** The longest suffix of `a` that is also a prefix of `b`, ending and starting at word boundaries, at most `max` long. */
function overlapOf(a: string, b: string, max: number): string {
  for (let n = Math.min(max, a.length, b.length); n > 0; n--) {
    const candidate = b.slice(0, n);
    const wordEnd = n === b.length || /\s/.test(b[n]);
    const wordStart = n === a.length || /\s/.test(a[a.length - n - 1]);
    if (wordEnd && wordStart && a.endsWith(candidate)) return candidate;
  }
  return '';
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== '');

describe('chunkText', () => {
  it('refuses overlap >= size and size < 1 with a RangeError', () => {
    assert.throws(() => chunkText('some text', 10, 10), RangeError);
    assert.throws(() => chunkText('some text', 10, 11), RangeError);
    assert.throws(() => chunkText('some text', 0, 0), RangeError);
    assert.throws(() => chunkText('some text', -5, 0), RangeError);
    assert.throws(() => chunkText('some text', 10, -1), RangeError);
    assert.throws(() => chunkText('some text', 2.5, 0), RangeError);
    assert.throws(() => chunkText('some text', 10, 1.5), RangeError);
    assert.throws(() => chunkText('some text', 10, 10), /overlap/);
    assert.throws(() => chunkText('some text', 0, 0), /size/);
    assert.doesNotThrow(() => chunkText('some text', 1, 0));
    assert.doesNotThrow(() => chunkText('some text', 10, 9));
  });

  it('gives [] for empty or whitespace-only text, in every format', () => {
    for (const format of ['text', 'markdown', 'html'] as const) {
      assert.deepEqual(chunkText('', 100, 10, format), []);
      assert.deepEqual(chunkText('   \n\n\t  \r\n ', 100, 10, format), []);
    }
    assert.deepEqual(chunkText('<p> </p><script>x()</script><!-- c -->', 100, 10, 'html'), []);
  });

  it('keeps a text that fits as one chunk', () => {
    assert.deepEqual(chunkText('A short text.', 100, 10), ['A short text.']);
  });

  it('overlaps consecutive chunks by whole words', () => {
    assert.deepEqual(chunkText('one two three four five six seven eight nine ten', 15, 6), [
      'one two three',
      'three four',
      'four five six',
      'six seven',
      'seven eight',
      'eight nine ten',
    ]);
    assert.deepEqual(chunkText('one two three four five six seven eight nine ten', 15, 0), ['one two three', 'four five six', 'seven eight', 'nine ten']);
  });

  it('property: chunks fit the size, overlap their neighbour, and cover every word in order (seeded random texts)', () => {
    const cases = [
      { seed: 1, count: 400, size: 60, overlap: 20 },
      { seed: 2, count: 300, size: 40, overlap: 15 },
      { seed: 3, count: 500, size: 100, overlap: 30 },
      { seed: 4, count: 250, size: 30, overlap: 14 },
      { seed: 5, count: 200, size: 200, overlap: 50 },
    ];
    for (const { seed, count, size, overlap } of cases) {
      const input = randomWords(seed, count);
      const text = randomText(seed, input);
      const chunks = chunkText(text, size, overlap);
      const label = `seed ${seed}, size ${size}, overlap ${overlap}`;
      assert.ok(chunks.length > 1, label);
      let rebuilt = chunks[0];
      for (let i = 0; i < chunks.length; i++) {
        assert.ok(chunks[i].length <= size, `${label}: chunk ${i} has ${chunks[i].length} characters`);
        assert.ok(chunks[i].length > 0, `${label}: chunk ${i} is empty`);
        if (i === 0) continue;
        const shared = overlapOf(chunks[i - 1], chunks[i], overlap);
        assert.ok(shared.length > 0, `${label}: chunk ${i} does not start with the end of chunk ${i - 1}:\n${chunks[i - 1]}\n${chunks[i]}`);
        assert.ok(chunks[i - 1].endsWith(shared));
        rebuilt += ` ${chunks[i].slice(shared.length)}`;
      }
      assert.deepEqual(words(rebuilt), input, label);
    }
  });

  it('property: without overlap, chunks are disjoint and their words are exactly the input words', () => {
    for (const seed of [11, 12, 13]) {
      const input = randomWords(seed, 300);
      const chunks = chunkText(randomText(seed, input), 50, 0);
      for (const c of chunks) assert.ok(c.length <= 50);
      assert.deepEqual(chunks.flatMap(words), input, `seed ${seed}`);
    }
  });

  it('splits a word longer than the size into pieces of the size', () => {
    const chunks = chunkText('abcdefghijklmnopqrstuvwxyz', 10, 0);
    assert.deepEqual(chunks, ['abcdefghij', 'klmnopqrst', 'uvwxyz']);
    for (const c of chunkText('x'.repeat(95), 10, 3)) assert.ok(c.length <= 10);
  });

  it('prefers paragraph breaks to sentence ends and spaces', () => {
    const text = 'First paragraph is here.\n\nSecond paragraph is here.';
    assert.deepEqual(chunkText(text, 30, 0), ['First paragraph is here.', 'Second paragraph is here.']);
  });

  it('treats CRLF and CR like LF', () => {
    assert.deepEqual(chunkText('First paragraph is here.\r\n\r\nSecond paragraph is here.', 30, 0), ['First paragraph is here.', 'Second paragraph is here.']);
    assert.deepEqual(chunkText('First paragraph is here.\r\rSecond paragraph is here.', 30, 0), ['First paragraph is here.', 'Second paragraph is here.']);
  });

  it('markdown: splits at headings before paragraphs, keeping each heading with its section', () => {
    const md = '# Alpha\n\nAlpha paragraph one.\n\n# Beta\n\nBeta paragraph two.';
    assert.deepEqual(chunkText(md, 40, 0, 'markdown'), ['# Alpha\n\nAlpha paragraph one.', '# Beta\n\nBeta paragraph two.']);
    // As plain text the same document is cut at blank lines, which leaves a heading at the end of a chunk.
    assert.deepEqual(chunkText(md, 40, 0, 'text'), ['# Alpha\n\nAlpha paragraph one.\n\n# Beta', 'Beta paragraph two.']);

    const md2 = 'Intro line.\n\n## One\n\nFirst section body text.\n\n## Two\n\nSecond section body text.\n\n## Three\n\nThird.';
    const chunks = chunkText(md2, 45, 0, 'markdown');
    assert.deepEqual(chunks, ['Intro line.', '## One\n\nFirst section body text.', '## Two\n\nSecond section body text.', '## Three\n\nThird.']);
    for (const c of chunks) assert.ok(!/\n#/.test(c), `a heading inside a chunk: ${JSON.stringify(c)}`);
  });

  it('markdown: a section longer than the size falls back to paragraphs, then words', () => {
    const body = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const md = `# Head\n\n${body}\n\n# Next\n\nShort.`;
    const chunks = chunkText(md, 60, 0, 'markdown');
    for (const c of chunks) assert.ok(c.length <= 60);
    assert.ok(chunks[0].startsWith('# Head\n\nword0 '), chunks[0]);
    assert.deepEqual(chunks.flatMap(words), words(md));
  });

  it('markdown: the heading after an over-long section starts a new chunk', () => {
    const body = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(`# Head\n\n${body}\n\n# Next\n\nShort.`, 60, 0, 'markdown');
    assert.equal(chunks[chunks.length - 1], '# Next\n\nShort.');
    for (const c of chunks) assert.ok(!/\n#/.test(c), `a heading inside a chunk: ${JSON.stringify(c)}`);
  });

  it('markdown: overlap never carries the end of one section over the next heading', () => {
    const body = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(`# Head\n\n${body}\n\n# Next\n\n${body}`, 60, 20, 'markdown');
    const next = chunks.findIndex((c) => c.includes('# Next'));
    assert.ok(chunks[next].startsWith('# Next\n\nword0 '), chunks[next]);
    for (const c of chunks) assert.ok(!/\n#/.test(c), `a heading inside a chunk: ${JSON.stringify(c)}`);
    // Inside a section, chunks still overlap.
    assert.ok(overlapOf(chunks[next], chunks[next + 1], 20).length > 0, `${chunks[next]}\n${chunks[next + 1]}`);
  });

  it('markdown: a long section split at its subheadings starts a chunk at each of them', () => {
    const body = Array.from({ length: 10 }, (_, i) => `word${i}`).join(' ');
    const md = `# Top\n\nIntro.\n\n## A\n\n${body}\n\n## B\n\n${body}\n\n# Other\n\nShort.`;
    const chunks = chunkText(md, 80, 10, 'markdown');
    assert.deepEqual(chunks, ['# Top\n\nIntro.', `## A\n\n${body}`, `## B\n\n${body}`, '# Other\n\nShort.']);
  });

  it('markdown: a document that fits stays one chunk, headings and all', () => {
    assert.deepEqual(chunkText('# A\n\nx\n\n# B\n\ny', 100, 10, 'markdown'), ['# A\n\nx\n\n# B\n\ny']);
  });

  it('html: chunks the visible text only', () => {
    const html = '<html><head><style>p { color: red }</style></head><body><p>Hello world</p><script>alert("x")</script><p>Second para</p></body></html>';
    assert.deepEqual(chunkText(html, 15, 0, 'html'), ['Hello world', 'Second para']);
  });
});

describe('htmlToText', () => {
  it('drops script, style, noscript and template elements and comments', () => {
    const html = [
      '<html><head><title>T</title><style type="text/css">body { margin: 0 }</style>',
      '<script type="module">const p = "<p>not text</p>";</script></head>',
      '<body><!-- a comment with <p>tags</p> --><p>Visible</p><noscript>Enable JS</noscript>',
      '<SCRIPT>upper()</SCRIPT><template><p>hidden</p></template><p>Also visible</p></body></html>',
    ].join('\n');
    const text = htmlToText(html);
    for (const gone of ['margin', 'not text', 'a comment', 'tags', 'Enable JS', 'upper', 'hidden', '<', '>']) {
      assert.ok(!text.includes(gone), `${JSON.stringify(gone)} left in ${JSON.stringify(text)}`);
    }
    assert.ok(text.includes('Visible'));
    assert.ok(text.includes('Also visible'));
  });

  it('decodes named, decimal and hex entities, astral ones included', () => {
    assert.equal(htmlToText('<p>Tom &amp; Jerry</p>'), 'Tom & Jerry');
    assert.equal(htmlToText('caf&#233;'), 'café');
    assert.equal(htmlToText('smile &#x1F600; &#X1f600;'), 'smile 😀 😀');
    assert.equal(htmlToText('&lt;b&gt; &quot;q&quot; &apos;a&apos; &AMP;'), '<b> "q" \'a\' &');
    assert.equal(htmlToText('a&nbsp;b'), 'a b');
    // Decoded once: an escaped entity stays an entity, an escaped tag stays text.
    assert.equal(htmlToText('&amp;lt; &lt;script&gt;'), '&lt; <script>');
    // Unknown or impossible entities are kept as written.
    assert.equal(htmlToText('&bogus; &#0; &#x110000;'), '&bogus; &#0; &#x110000;');
  });

  it('keeps block boundaries as blank lines and <br> as a line break, inline tags run together', () => {
    assert.equal(htmlToText('<h1>Title</h1><p>One</p><div>Two</div>'), 'Title\n\nOne\n\nTwo');
    assert.equal(htmlToText('<ul><li>a</li><li>b</li></ul>'), 'a\n\nb');
    assert.equal(htmlToText('line one<br>line two<br/>three<BR />four'), 'line one\nline two\nthree\nfour');
    assert.equal(htmlToText('<p>a <b>bold</b><i>italic</i> word</p>'), 'a bolditalic word');
    assert.equal(htmlToText('<table><tr><td>x</td><td>y</td></tr><tr><td>z</td></tr></table>'), 'xy\n\nz');
  });

  it('collapses whitespace and never leaves more than one blank line', () => {
    assert.equal(htmlToText('  <p>  a \t  b  </p>\n\n\n\n<p>c</p>  '), 'a b\n\nc');
    assert.ok(!/\n{3,}/.test(htmlToText('<div><div><div><p>x</p></div></div></div><p>y</p>')));
  });
});

describe('detectDocumentFormat', () => {
  it('goes by the file name first', () => {
    assert.equal(detectDocumentFormat('# heading', 'page.html'), 'html');
    assert.equal(detectDocumentFormat('plain', 'page.HTM'), 'html');
    assert.equal(detectDocumentFormat('plain', 'a.xhtml'), 'html');
    assert.equal(detectDocumentFormat('<html></html>', 'README.md'), 'markdown');
    assert.equal(detectDocumentFormat('x', 'notes.markdown'), 'markdown');
    assert.equal(detectDocumentFormat('# heading', 'notes.txt'), 'text');
  });

  it('then by the content', () => {
    assert.equal(detectDocumentFormat('<!DOCTYPE html><html><body>x</body></html>'), 'html');
    assert.equal(detectDocumentFormat('  \n<html lang="en">'), 'html');
    assert.equal(detectDocumentFormat('Intro\n\n## Section\n\ntext'), 'markdown');
    assert.equal(detectDocumentFormat('just words, #hashtag'), 'text');
    assert.equal(detectDocumentFormat('####### seven is not a heading'), 'text');
    assert.equal(detectDocumentFormat('a <b>tag</b> in text'), 'text');
    assert.equal(detectDocumentFormat('', 'file.pdf'), 'text');
  });
});
