import assert from 'node:assert/strict';
import { editorFileWithPropertyLists, helpWithPropertyLists } from '../../scripts/help-properties';

describe('help property lists (build time)', () => {
  it('turns wrapped entries with colons and JSON into one property list per run of entries', () => {
    const md = [
      '### Outputs',
      '',
      ': payload (object) : a SearchedDoc `{initial_query, retrieved_docs: [{text}]}`, with',
      '  its *metadata*.',
      ': metrics.retriever (object) : `{ms, documents}`.',
      '',
      '### Details',
      '',
      'Text: with a colon stays text.',
    ].join('\n');
    assert.equal(
      helpWithPropertyLists(md),
      [
        '### Outputs',
        '',
        '<dl class="message-properties">',
        '<dt>payload<span class="property-type">object</span></dt>',
        '<dd>a SearchedDoc <code>{initial_query, retrieved_docs: [{text}]}</code>, with its <em>metadata</em>.</dd>',
        '<dt>metrics.retriever<span class="property-type">object</span></dt>',
        '<dd><code>{ms, documents}</code>.</dd>',
        '</dl>',
        '',
        '### Details',
        '',
        'Text: with a colon stays text.',
      ].join('\n'),
    );
  });

  it('changes only the markdown help script of a hand-written editor file', () => {
    const html = '<script type="text/html" data-template-name="x">\n: a (b) : c\n</script>\n<script type="text/markdown" data-help-name="x">\n: payload (any) : starts it\n</script>';
    const out = editorFileWithPropertyLists(html);
    assert.ok(out.startsWith('<script type="text/html" data-template-name="x">\n: a (b) : c\n</script>'), out);
    assert.match(out, /data-help-name="x">\n<dl class="message-properties">\n<dt>payload<span class="property-type">any<\/span><\/dt>\n<dd>starts it<\/dd>\n<\/dl>/);
  });
});
