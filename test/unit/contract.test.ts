import assert from 'node:assert/strict';
import { decodePythonBytes } from '../../core/clients/llm';
import {
  asEmbedDoc,
  asLlmInput,
  asSearchedDoc,
  ContractError,
  DEFAULT_CHAT_TEMPLATE,
  renderPrompt,
  textOf,
  textsToEmbed,
} from '../../core/contract/documents';

/** Runs `fn`, expecting a ContractError; returns it for closer checks. */
function contractError(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ContractError, `expected a ContractError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ContractError, nothing was thrown');
}

const chatRequest = (content: unknown) => ({
  model: 'm',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'first answer' },
    { role: 'user', content },
  ],
});

describe('ContractError', () => {
  it('carries the fix separately and in its message', () => {
    const err = new ContractError('no text', 'send a string');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ContractError');
    assert.equal(err.fix, 'send a string');
    assert.equal(err.message, 'no text — send a string');
  });
});

describe('textOf', () => {
  it('reads a string and the text-carrying fields of OPEA documents', () => {
    assert.equal(textOf('plain'), 'plain');
    assert.equal(textOf(''), '');
    assert.equal(textOf({ text: 'from text' }), 'from text');
    assert.equal(textOf({ input: 'from input' }), 'from input');
    assert.equal(textOf({ query: 'from query', documents: [] }), 'from query');
    assert.equal(textOf({ initial_query: 'from initial_query', retrieved_docs: [] }), 'from initial_query');
    assert.equal(textOf({ question: 'from question' }), 'from question');
    assert.equal(textOf({ text: 'text wins', query: 'q' }), 'text wins');
  });

  it('reads the last user message of an OpenAI chat request, with string or array content', () => {
    assert.equal(textOf(chatRequest('second question')), 'second question');
    assert.equal(
      textOf(chatRequest([{ type: 'text', text: 'part one' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'part two' }])),
      'part one\npart two',
    );
    assert.equal(textOf({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }), 'q', 'the last *user* message');
  });

  it('gives null for what carries no text', () => {
    for (const v of [null, undefined, 42, true, [], ['a'], {}, { text: 5 }, { messages: [] }, { messages: [{ role: 'assistant', content: 'a' }] }]) {
      assert.equal(textOf(v), null, JSON.stringify(v));
    }
  });
});

describe('textsToEmbed', () => {
  it('one text from a string or a document', () => {
    assert.deepEqual(textsToEmbed('hello'), { texts: ['hello'], single: true });
    assert.deepEqual(textsToEmbed({ text: 'hello' }), { texts: ['hello'], single: true });
    assert.deepEqual(textsToEmbed({ input: 'hello' }), { texts: ['hello'], single: true });
    assert.deepEqual(textsToEmbed(chatRequest('q?')), { texts: ['q?'], single: true });
  });

  it('several texts from an array of strings or {input: string[]}', () => {
    assert.deepEqual(textsToEmbed(['a', 'b']), { texts: ['a', 'b'], single: false });
    assert.deepEqual(textsToEmbed({ input: ['a', 'b'], model: 'm' }), { texts: ['a', 'b'], single: false });
  });

  it('refuses what has no text, saying what it received and how to fix it', () => {
    const empty = contractError(() => textsToEmbed({}));
    assert.match(empty.message, /no text to embed/);
    assert.match(empty.message, /an empty object/);
    assert.match(empty.fix, /string/);
    assert.match(contractError(() => textsToEmbed({ foo: 1, bar: 2 })).message, /an object with foo, bar/);
    assert.match(contractError(() => textsToEmbed(7)).message, /a number/);
    assert.match(contractError(() => textsToEmbed(null)).message, /null/);
    assert.match(contractError(() => textsToEmbed(undefined)).message, /undefined/);
    assert.match(contractError(() => textsToEmbed([1, 2])).message, /an array/);
    assert.match(contractError(() => textsToEmbed([])).message, /an array/);
    contractError(() => textsToEmbed('   '));
    contractError(() => textsToEmbed({ text: '' }));
    contractError(() => textsToEmbed({ input: [] }));
  });
});

describe('asEmbedDoc', () => {
  it('accepts {text, embedding} and keeps the search fields', () => {
    const doc = { text: 'q', embedding: [0.1, -0.2, 3], k: 2, search_type: 'mmr' };
    assert.deepEqual(asEmbedDoc(doc), doc);
  });

  it('refuses a missing, empty or non-finite embedding and says to wire an embedding node', () => {
    for (const bad of ['q', { text: 'q' }, { text: 'q', embedding: [] }, { text: 'q', embedding: [1, NaN] }, { text: 'q', embedding: [1, Infinity] }, { text: 'q', embedding: ['1'] }, { embedding: [1] }]) {
      const err = contractError(() => asEmbedDoc(bad));
      assert.match(err.message, /EmbedDoc \{text, embedding: number\[\]\}/);
      assert.match(err.fix, /opea-embedding/);
    }
    assert.match(contractError(() => asEmbedDoc({ text: 'q' })).message, /not an object with text/);
    assert.match(contractError(() => asEmbedDoc('q')).message, /not a string/);
  });
});

describe('asSearchedDoc', () => {
  it('accepts retrieved_docs as strings', () => {
    assert.deepEqual(asSearchedDoc({ initial_query: 'q', retrieved_docs: ['a', 'b'], top_n: 3 }), {
      initial_query: 'q',
      retrieved_docs: [{ text: 'a' }, { text: 'b' }],
      top_n: 3,
    });
  });

  it('accepts retrieved_docs as {text, metadata, score}, dropping other fields', () => {
    const doc = asSearchedDoc({
      initial_query: 'q',
      retrieved_docs: [
        { id: 'x', text: 'a', metadata: { source: 'a.md' }, score: 0.9, downstream_black_list: [] },
        { text: 'b', metadata: 'not an object' },
      ],
    });
    assert.deepEqual(doc.retrieved_docs, [{ text: 'a', metadata: { source: 'a.md' }, score: 0.9 }, { text: 'b' }]);
  });

  it('takes query when initial_query is missing, and top_n 1 unless a positive whole number is given', () => {
    assert.equal(asSearchedDoc({ query: 'q2', retrieved_docs: [] }).initial_query, 'q2');
    assert.equal(asSearchedDoc({ initial_query: 'q', retrieved_docs: [] }).top_n, 1);
    assert.equal(asSearchedDoc({ initial_query: 'q', retrieved_docs: [], top_n: 0 }).top_n, 1);
    assert.equal(asSearchedDoc({ initial_query: 'q', retrieved_docs: [], top_n: 2.5 }).top_n, 1);
    assert.equal(asSearchedDoc({ initial_query: 'q', retrieved_docs: [], top_n: 4 }).top_n, 4);
  });

  it('refuses other shapes and says to wire a retriever', () => {
    for (const bad of ['q', { initial_query: 'q' }, { retrieved_docs: ['a'] }, { initial_query: 'q', retrieved_docs: [{ content: 'a' }] }, { initial_query: 'q', retrieved_docs: [1] }]) {
      const err = contractError(() => asSearchedDoc(bad));
      assert.match(err.message, /SearchedDoc \{initial_query, retrieved_docs: \[\{text\}\]\}/);
      assert.match(err.fix, /opea-retriever/);
    }
    assert.match(contractError(() => asSearchedDoc({ initial_query: 'q' })).message, /not an object with initial_query/);
  });
});

describe('asLlmInput', () => {
  it('a string is the question', () => {
    assert.deepEqual(asLlmInput('why?'), { query: 'why?', documents: [] });
  });

  it('an LLMParamsDoc keeps its parameters; documents may be strings or {text}', () => {
    const doc = asLlmInput({ query: 'q', documents: ['a', { text: 'b', metadata: {} }], max_tokens: 9, temperature: 0.2, stream: false });
    assert.equal(doc.query, 'q');
    assert.deepEqual(doc.documents, ['a', 'b']);
    assert.equal(doc.max_tokens, 9);
    assert.equal(doc.temperature, 0.2);
    assert.equal(doc.stream, false);
    assert.deepEqual(asLlmInput({ query: 'q' }).documents, []);
  });

  it('an LLMParamsDoc may carry history as chat messages; a malformed history is refused', () => {
    const history = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ];
    assert.deepEqual(asLlmInput({ query: 'q', documents: [], history }).history, history);
    const err = contractError(() => asLlmInput({ query: 'q', history: [{ role: 'bot', content: 'x' }] }));
    assert.match(err.message, /history/);
    assert.match(err.fix, /role: "user"\|"assistant"\|"system"/);
    contractError(() => asLlmInput({ query: 'q', history: 'earlier' }));
  });

  it('a SearchedDoc gives its query and its documents (string or {text, metadata})', () => {
    assert.deepEqual(asLlmInput({ initial_query: 'q', retrieved_docs: ['a', { text: 'b', metadata: { source: 's' } }] }), { query: 'q', documents: ['a', 'b'] });
  });

  it('an OpenAI chat request: the last user message is the question, the earlier messages the history', () => {
    const doc = asLlmInput(chatRequest('second question'));
    assert.equal(doc.query, 'second question');
    assert.deepEqual(doc.documents, []);
    assert.deepEqual(doc.history, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
    ]);
    assert.deepEqual(asLlmInput({ messages: [{ role: 'user', content: 'only' }], documents: ['ctx'] }), { query: 'only', documents: ['ctx'], history: [] });
  });

  it('an OpenAI chat request with array content parts is accepted', () => {
    const doc = asLlmInput(chatRequest([{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }]));
    assert.equal(doc.query, 'part one\npart two');
    assert.equal(doc.history?.length, 3);
  });

  it('array content parts are read in the history too, of a chat request and of an LLMParamsDoc', () => {
    const parts = [{ type: 'text', text: 'hi' }, { type: 'text', text: 'there' }];
    const chat = asLlmInput({ messages: [{ role: 'system', content: parts }, { role: 'user', content: 'q' }] });
    assert.deepEqual(chat.history, [{ role: 'system', content: 'hi\nthere' }]);
    assert.deepEqual(asLlmInput({ query: 'q', history: [{ role: 'user', content: parts }] }).history, [{ role: 'user', content: 'hi\nthere' }]);
  });

  it('refuses non-text content parts, naming the part type, the message and how to fix it', () => {
    const image = { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } };
    const err = contractError(() => asLlmInput(chatRequest([{ type: 'text', text: 'what is this?' }, image])));
    assert.match(err.message, /msg\.payload\.messages\[3\] has a content part of type "image_url"/);
    assert.match(err.message, /text only/);
    assert.match(err.fix, /\[\{type: "text", text: "\.\.\."\}\]/);
    const inHistory = contractError(() => asLlmInput({ query: 'q', history: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }));
    assert.match(inHistory.message, /msg\.payload\.history\[0\] has a content part of type "input_audio"/);
  });

  it('refuses malformed content parts as it refuses any malformed message', () => {
    for (const content of [[{ text: 'no type' }], [{ type: 'text' }], [{ type: 'text', text: 3 }], ['bare string'], { type: 'text', text: 'not in an array' }]) {
      const err = contractError(() => asLlmInput(chatRequest(content)));
      assert.match(err.message, /the LLM needs a question/, JSON.stringify(content));
    }
  });

  it('refuses what has no question, saying what it got and which nodes to wire', () => {
    for (const bad of ['', '   ', 7, null, {}, { text: 'not a query field' }, { messages: [{ role: 'assistant', content: 'a' }] }, { query: 'q', documents: [3] }]) {
      const err = contractError(() => asLlmInput(bad));
      assert.match(err.message, /the LLM needs a question/, JSON.stringify(bad));
      assert.match(err.fix, /opea-rerank or opea-retriever/);
    }
    assert.match(contractError(() => asLlmInput({ text: 'x', foo: 1 })).message, /not an object with text, foo/);
    assert.match(contractError(() => asLlmInput(7)).message, /not a number/);
    // A SearchedDoc-looking payload that is malformed gets the reranker's explanation.
    assert.match(contractError(() => asLlmInput({ retrieved_docs: ['a'] })).message, /SearchedDoc/);
  });
});

describe('renderPrompt and DEFAULT_CHAT_TEMPLATE', () => {
  it('fills {context} with the documents, one per line, and {question} with the query', () => {
    assert.equal(renderPrompt('C: {context}\nQ: {question}', 'why?', ['doc one', 'doc two']), 'C: doc one\ndoc two\nQ: why?');
    assert.equal(renderPrompt('{question} {question} {context}{context}', 'q', ['d']), 'q q dd');
    assert.equal(renderPrompt('C: {context}\nQ: {question}', 'q', []), 'C: \nQ: q');
  });

  it('appends the question on its own line when the template has no {question}', () => {
    assert.equal(renderPrompt('Context: {context}', 'why?', ['d']), 'Context: d\nwhy?');
    assert.equal(renderPrompt('Answer briefly.', 'why?', []), 'Answer briefly.\nwhy?');
  });

  it('inserts text with $ patterns literally', () => {
    assert.equal(renderPrompt('{context}|{question}', "$& $' $1", ['$$']), "$$|$& $' $1");
  });

  it('inserts documents verbatim even when they contain {question}', () => {
    assert.equal(renderPrompt('Q: {question}\nC: {context}', 'why?', ['literal {question} here']), 'Q: why?\nC: literal {question} here');
    assert.equal(renderPrompt('C: {context}', 'why?', ['about {question}']), 'C: about {question}\nwhy?');
  });

  it('inserts the question verbatim even when it contains {context} or {question}', () => {
    assert.equal(renderPrompt('C: {context}\nQ: {question}', 'what is {context}?', ['d']), 'C: d\nQ: what is {context}?');
    assert.equal(renderPrompt('Q: {question}\nC: {context}', 'say {question}', ['d']), 'Q: say {question}\nC: d');
    assert.equal(renderPrompt('C: {context}', '{question}', ['{context}']), 'C: {context}\n{question}');
  });

  it('leaves other braces in the template as written', () => {
    assert.equal(renderPrompt('{ "q": "{question}", "x": {other} }', 'q', []), '{ "q": "q", "x": {other} }');
  });

  it('the default template is the ChatQnA one and has both placeholders', () => {
    assert.ok(DEFAULT_CHAT_TEMPLATE.includes('{context}'));
    assert.ok(DEFAULT_CHAT_TEMPLATE.includes('{question}'));
    const prompt = renderPrompt(DEFAULT_CHAT_TEMPLATE, 'What is OPEA?', ['OPEA is a platform.', 'It has microservices.']);
    assert.ok(prompt.includes('### Search results: OPEA is a platform.\nIt has microservices.'));
    assert.ok(prompt.includes('### Question: What is OPEA?'));
    assert.ok(prompt.endsWith('### Answer:'));
    assert.ok(!prompt.includes('{'));
  });
});

describe('decodePythonBytes', () => {
  it("decodes b'...' and b\"...\" literals", () => {
    assert.equal(decodePythonBytes("b'Hello'"), 'Hello');
    assert.equal(decodePythonBytes('b"it\'s"'), "it's");
    assert.equal(decodePythonBytes("b''"), '');
    assert.equal(decodePythonBytes("b' leading space'"), ' leading space');
  });

  it('decodes escapes: \\n \\t \\\\ \\\' \\" and \\xNN bytes as UTF-8', () => {
    assert.equal(decodePythonBytes("b'a\\nb'"), 'a\nb');
    assert.equal(decodePythonBytes("b'a\\tb'"), 'a\tb');
    assert.equal(decodePythonBytes("b'back\\\\slash'"), 'back\\slash');
    assert.equal(decodePythonBytes("b'it\\'s'"), "it's");
    assert.equal(decodePythonBytes('b"say \\"hi\\""'), 'say "hi"');
    assert.equal(decodePythonBytes("b'caf\\xc3\\xa9'"), 'café');
    assert.equal(decodePythonBytes("b'\\xf0\\x9f\\x8c\\x8d'"), '🌍');
    assert.equal(decodePythonBytes("b'\\r\\x41'"), '\rA');
  });

  it('keeps an unknown escape as written', () => {
    assert.equal(decodePythonBytes("b'a\\qb'"), 'a\\qb');
  });

  it('gives null for what is not a bytes literal', () => {
    for (const v of ['Hello', "'Hello'", '"Hello"', "b'unterminated", 'b"mixed\'', "B'upper'", "xb'Hello'", "b'Hello' ", '{"text":"b\'x\'"}', '[DONE]', '', 'b']) {
      assert.equal(decodePythonBytes(v), null, JSON.stringify(v));
    }
  });
});
