/**
 * OPEA Chat Model in Flowise: `.stream()` yields the server's tokens as they arrive, through the real
 * @langchain/core (1.1.20, as flowise-components 3.1.4 pins) and through the host-less fallback;
 * stopping a stream aborts its request; errors reach the caller; `bindTools` sends the bound tools as
 * OpenAI tools and returns the answer's tool calls as LangChain tool calls.
 *
 * The loopback servers answer as the upstream servers do:
 * - OpenAI-compatible chat (Ollama's implementation, openai/openai.go): a stream of
 *   chat.completion.chunk events {choices: [{index, delta: {content}, finish_reason}]} (l.61-65,
 *   l.137-145), ended by `data: [DONE]` (middleware/openai.go l.157); tool calls are
 *   {id, index, type: "function", function: {name, arguments: <JSON text>}} (openai/openai.go
 *   l.185-193, ToToolCalls l.249-266) with finish_reason "tool_calls" (ToChatCompletion l.286-289).
 * - TGI's messages API (router/src/lib.rs at db931fcf): a tool call answer is an assistant message with
 *   tool_calls and no content (OutputMessage::ToolCall l.715, ToolCallMessage l.1318-1323), each call
 *   with id "0" (router/src/chat.rs l.48-58) and `arguments` as JSON text since v3.2.0
 *   (FunctionDefinition serialize_as_string l.1179-1192), a JSON object before.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { useHost } from '../../flowise/host';
import { ICommonObject, INodeData } from '../../flowise/interface';
import { nodeClass as ChatModel, ChatModelLike } from '../../flowise/nodes/OpeaChatModel';
import { piecesOf } from '../../flowise/stream-bridge';
import { closeServer, listenLoopback } from '../support/loopback';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
const messages = () => require('@langchain/core/messages');
const tools = () => require('@langchain/core/tools');

interface Exchange {
  body: ICommonObject;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Resolves when the client closed the connection before the answer ended. */
  clientLeft: Promise<void>;
}

/** A loopback server whose every answer the test writes; it records the request bodies. */
class ScriptedServer {
  readonly bodies: ICommonObject[] = [];
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(answer: (x: Exchange) => void | Promise<void>): Promise<ScriptedServer> {
    let self: ScriptedServer | undefined;
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        const body = JSON.parse(text || '{}') as ICommonObject;
        self?.bodies.push(body);
        const clientLeft = new Promise<void>((resolve) => res.on('close', () => (res.writableEnded ? undefined : resolve())));
        void Promise.resolve(answer({ body, req, res, clientLeft })).catch(() => res.destroy());
      });
    });
    self = new ScriptedServer(server, await listenLoopback(server));
    return self;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

const chunkEvent = (content: string, finish: string | null = null) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: finish }] });
const sendEvent = (res: http.ServerResponse, event: unknown) => res.write(`data: ${JSON.stringify(event)}\n\n`);
const openStream = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const json = (res: http.ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};
const completion = (message: ICommonObject, finish = 'stop') => ({ id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } });

/** Resolves after `ms`, or earlier when `gate` resolves; says which came first. */
const gateOrTimeout = (gate: Promise<void>, ms: number) => Promise.race([gate.then(() => 'gate' as const), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => undefined as void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function nodeData(inputs: ICommonObject): INodeData {
  const node = new ChatModel();
  return { id: 'opeaChatModel_0', label: node.label, name: node.name, type: node.type, icon: node.icon, version: node.version, category: node.category, baseClasses: node.baseClasses, inputs, outputs: {} };
}

const init = async (inputs: ICommonObject) => (await new ChatModel().init(nodeData(inputs), '', {})) as ChatModelLike & ICommonObject;
const noHost = () => useHost(() => {
  throw new Error('no Flowise here');
});

describe('piecesOf: a callback as an async generator', () => {
  async function drain<R>(gen: AsyncGenerator<string, R>): Promise<{ pieces: string[]; result: R }> {
    const pieces: string[] = [];
    for (;;) {
      const next = await gen.next();
      if (next.done) return { pieces, result: next.value };
      pieces.push(next.value);
    }
  }

  it('delivers a burst of pieces given before the consumer pulls, in order, then the result', async () => {
    const gen = piecesOf(async (onPiece) => {
      for (let i = 0; i < 500; i++) onPiece(String(i));
      await new Promise((r) => setImmediate(r));
      onPiece('last');
      return 'done';
    });
    const { pieces, result } = await drain(gen);
    assert.deepEqual(pieces, [...Array.from({ length: 500 }, (_, i) => String(i)), 'last']);
    assert.equal(result, 'done');
  });

  it('hands over the pieces before the error, then throws it', async () => {
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const piece of piecesOf(async (onPiece) => {
          onPiece('a');
          onPiece('b');
          throw new Error('broke off');
        })) seen.push(piece);
      })(),
      /broke off/,
    );
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('leaving early aborts the call and waits for it to end', async () => {
    let ended = false;
    const gen = piecesOf(async (onPiece, signal) => {
      onPiece('first');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      ended = true;
    });
    assert.equal((await gen.next()).value, 'first');
    await gen.return(undefined);
    assert.equal(ended, true);
  });
});

describe('Flowise OPEA Chat Model: streaming and tools', function () {
  this.timeout(20000);
  after(noHost);

  /**
   * The first token is sent, then the server waits until the test has received it (or 5 s): an
   * answer that is not streamed cannot reach the test before the rest is sent.
   */
  async function gatedServer() {
    const firstSeen = deferred();
    let released: 'gate' | 'timeout' | undefined;
    const server = await ScriptedServer.start(async ({ res }) => {
      openStream(res);
      sendEvent(res, chunkEvent('Hel'));
      released = await gateOrTimeout(firstSeen.promise, 5000);
      sendEvent(res, chunkEvent('lo'));
      sendEvent(res, chunkEvent(' there', 'stop'));
      sendEvent(res, { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } });
      res.end('data: [DONE]\n\n');
    });
    return { server, firstSeen, released: () => released };
  }

  /** Sends one token, then holds the stream open until the client leaves (or 5 s); `left()` settles when it has left. */
  async function oneTokenServer() {
    let left: Promise<void> | undefined;
    const server = await ScriptedServer.start(async ({ res, clientLeft }) => {
      left = clientLeft;
      openStream(res);
      sendEvent(res, chunkEvent('one'));
      await gateOrTimeout(clientLeft, 5000);
      if (!res.destroyed) res.end('data: [DONE]\n\n');
    });
    return { server, left: () => left as Promise<void> };
  }

  describe('on the real @langchain/core', () => {
    before(() => useHost(require));

    it('.stream() yields each token as the server sends it, and reports it to the callbacks', async () => {
      const { server, firstSeen, released } = await gatedServer();
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
        assert.equal(model.fromHost, true);
        const tokens: string[] = [];
        const chunks: any[] = [];
        for await (const chunk of await model.stream('Say hello', { callbacks: [{ handleLLMNewToken: (t: string) => void tokens.push(t) }] } as never)) {
          chunks.push(chunk);
          if (chunks.length === 1) firstSeen.resolve();
        }
        assert.equal(released(), 'gate', 'the first token reached the caller while the server held the rest back');
        assert.deepEqual(chunks.map((c) => c.content).filter(Boolean), ['Hel', 'lo', ' there']);
        assert.ok(chunks.every((c) => c instanceof messages().AIMessageChunk));
        assert.deepEqual(tokens, ['Hel', 'lo', ' there']);
        const whole = chunks.reduce((a, b) => a.concat(b));
        assert.equal(whole.content, 'Hello there');
        assert.deepEqual([whole.usage_metadata.input_tokens, whole.usage_metadata.output_tokens, whole.usage_metadata.total_tokens], [5, 3, 8]);
        assert.equal(whole.response_metadata.finish_reason, 'stop');
        assert.equal(server.bodies[0].stream, true);
      } finally {
        await server.close();
      }
    });

    it('leaving the loop early aborts the request', async () => {
      const { server, left } = await oneTokenServer();
      try {
        const model = await init({ backend: 'openai', modelName: 'm', baseUrl: server.url });
        for await (const chunk of await model.stream('Count')) {
          assert.equal(chunk.content, 'one');
          break;
        }
        assert.equal(await gateOrTimeout(left(), 5000), 'gate', 'the server saw the connection closed');
      } finally {
        await server.close();
      }
    });

    it("the caller's abort signal stops the stream and its request", async () => {
      const { server, left } = await oneTokenServer();
      try {
        const model = await init({ backend: 'openai', modelName: 'm', baseUrl: server.url });
        const controller = new AbortController();
        const seen: string[] = [];
        await assert.rejects(async () => {
          for await (const chunk of await model.stream('Count', { signal: controller.signal })) {
            seen.push(chunk.content as string);
            controller.abort();
          }
        });
        assert.deepEqual(seen, ['one']);
        assert.equal(await gateOrTimeout(left(), 5000), 'gate');
      } finally {
        await server.close();
      }
    });

    it('a failed request and an error in the middle of the stream reach the caller in Flowise words', async () => {
      const server = await ScriptedServer.start(({ body, res }) => {
        if (body.messages[0].content === 'refused') return json(res, 401, { error: 'bad key' });
        openStream(res);
        sendEvent(res, chunkEvent('par'));
        sendEvent(res, { error: { message: 'out of memory' } });
        res.end();
      });
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
        const drain = async (question: string) => {
          for await (const _chunk of await model.stream(question)) void _chunk;
        };
        await assert.rejects(drain('refused'), (err: Error) => {
          assert.match(err.message, /^OPEA Chat Model \(opeaChatModel_0\): .*HTTP 401.*check the API Key of the OPEA Server credential/);
          assert.doesNotMatch(err.message, /config node/);
          return true;
        });
        await assert.rejects(drain('go'), /OPEA Chat Model \(opeaChatModel_0\): .*error mid-stream.*out of memory/);
      } finally {
        await server.close();
      }
    });

    it('an empty answer still ends the stream (and invoke through a streaming callback) with a message', async () => {
      const server = await ScriptedServer.start(({ res }) => {
        openStream(res);
        sendEvent(res, chunkEvent(''));
        res.end('data: [DONE]\n\n');
      });
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
        const chunks: any[] = [];
        for await (const chunk of await model.stream('Say nothing')) chunks.push(chunk);
        assert.equal(chunks.length, 1);
        assert.equal(chunks[0].content, '');
        // A handler that prefers streaming makes invoke() go through _streamResponseChunks.
        const answer = await model.invoke('Say nothing', { callbacks: [{ lc_prefer_streaming: true, handleLLMNewToken: () => undefined }] } as never);
        assert.equal(answer.content, '');
      } finally {
        await server.close();
      }
    });

    it('with Streaming off, .stream() yields the whole answer as one chunk', async () => {
      const server = await ScriptedServer.start(({ res }) => json(res, 200, completion({ content: 'All at once' })));
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url, streaming: false });
        const chunks: any[] = [];
        for await (const chunk of await model.stream('Hi')) chunks.push(chunk);
        assert.deepEqual(chunks.map((c) => c.content).filter(Boolean), ['All at once']);
        assert.equal(server.bodies[0].stream, false);
      } finally {
        await server.close();
      }
    });

    describe('tools', () => {
      const weather = () =>
        tools().tool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
          name: 'get_weather',
          description: 'The weather of a city',
          schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        });
      /** Ollama's OpenAI-compatible answer: a tool call first, then text once a tool answer came back. */
      const ollamaLike = () =>
        ScriptedServer.start(({ body, res }) => {
          const last = body.messages[body.messages.length - 1];
          if (last.role === 'tool') return json(res, 200, completion({ content: `It is ${last.content}.` }));
          json(res, 200, completion({ content: '', tool_calls: [{ id: 'call_abc', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls'));
        });

      it('bindTools sends OpenAI tools and the Tool Agent loop runs: tool call, tool answer, final answer', async () => {
        const server = await ollamaLike();
        try {
          const model = await init({ backend: 'ollama', modelName: 'llama3.1', baseUrl: server.url, temperature: 0.2 });
          assert.equal(typeof model.bindTools, 'function', "Flowise's Tool Agent checks model.bindTools");
          const tool = weather();
          const bound = model.bindTools([tool]) as any;
          const question = new (messages().HumanMessage)('What is the weather in Paris?');
          const first = await bound.invoke([question]);
          assert.ok(first instanceof messages().AIMessage);
          assert.deepEqual(first.tool_calls, [{ name: 'get_weather', args: { city: 'Paris' }, id: 'call_abc', type: 'tool_call' }]);
          const sent = server.bodies[0];
          assert.deepEqual(sent.tools, [{ type: 'function', function: { name: 'get_weather', description: 'The weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]);
          assert.equal(sent.stream, false);
          assert.equal(sent.model, 'llama3.1');
          const toolAnswer = await tool.invoke(first.tool_calls[0]);
          const final = await bound.invoke([question, first, toolAnswer]);
          assert.equal(final.content, 'It is Sunny in Paris.');
          assert.deepEqual(final.tool_calls, []);
          assert.deepEqual(server.bodies[1].messages, [
            { role: 'user', content: 'What is the weather in Paris?' },
            { role: 'assistant', tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
            { role: 'tool', content: 'Sunny in Paris', tool_call_id: 'call_abc' },
          ]);
        } finally {
          await server.close();
        }
      });

      it('a stream with tools bound assembles the tool calls; tool_choice is passed in OpenAI form', async () => {
        const server = await ollamaLike();
        try {
          const model = await init({ backend: 'openai', modelName: 'gpt-x', baseUrl: server.url });
          const chunks: any[] = [];
          for await (const chunk of await (model.bindTools([weather()], { tool_choice: 'get_weather' }) as any).stream('Weather in Paris?')) chunks.push(chunk);
          const whole = chunks.reduce((a, b) => a.concat(b));
          assert.deepEqual(whole.tool_calls, [{ name: 'get_weather', args: { city: 'Paris' }, id: 'call_abc', type: 'tool_call' }]);
          assert.deepEqual(server.bodies[0].tool_choice, { type: 'function', function: { name: 'get_weather' } });
          await (model.bindTools([weather()], { tool_choice: 'any' }) as any).invoke('Weather?');
          assert.equal(server.bodies[1].tool_choice, 'required');
        } finally {
          await server.close();
        }
      });

      it("TGI's messages API: tool calls with id \"0\", arguments as text (3.2+) or as an object (before); greedy at temperature 0", async () => {
        let argumentsAsObject = false;
        const server = await ScriptedServer.start(({ res }) => {
          const args = argumentsAsObject ? { city: 'Paris' } : '{"city":"Paris"}';
          json(res, 200, { object: 'chat.completion', id: '', created: 0, model: 'tgi', system_fingerprint: '3.3.7-native', choices: [{ index: 0, message: { role: 'assistant', tool_calls: [{ id: '0', type: 'function', function: { description: null, name: 'get_weather', arguments: args } }] }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 } });
        });
        try {
          const model = await init({ backend: 'tgi', baseUrl: server.url, temperature: 0 });
          const bound = model.bindTools([weather()]) as any;
          const expected = [{ name: 'get_weather', args: { city: 'Paris' }, id: '0', type: 'tool_call' }];
          assert.deepEqual((await bound.invoke('Weather in Paris?')).tool_calls, expected);
          argumentsAsObject = true;
          assert.deepEqual((await bound.invoke('Weather in Paris?')).tool_calls, expected);
          const sent = server.bodies[0];
          assert.equal(sent.model, 'tgi');
          assert.equal(sent.temperature, 0);
          assert.ok(!('top_p' in sent), 'TGI samples whenever top_p < 1 is set');
          assert.ok(!('top_k' in sent) && !('repetition_penalty' in sent), "TGI's ChatRequest has no top_k or repetition_penalty");
        } finally {
          await server.close();
        }
      });

      it('arguments that are not JSON become an invalid tool call, not an exception', async () => {
        const server = await ScriptedServer.start(({ res }) => json(res, 200, completion({ content: '', tool_calls: [{ id: 'c1', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city": Par' } }] }, 'tool_calls')));
        try {
          const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
          const answer = await (model.bindTools([weather()]) as any).invoke('Weather?');
          assert.deepEqual(answer.tool_calls, []);
          assert.equal(answer.invalid_tool_calls.length, 1);
          assert.equal(answer.invalid_tool_calls[0].args, '{"city": Par');
          assert.equal(server.bodies[0].top_k, 10, 'vLLM takes top_k');
        } finally {
          await server.close();
        }
      });

      it('backends without tool calling say so when tools are bound', async () => {
        const offline = await init({ backend: 'extractive' });
        assert.throws(() => offline.bindTools([weather()]), /^Error: OPEA Chat Model \(opeaChatModel_0\): Backend 'Extractive answerer \(offline\)' cannot call tools .*choose Backend TGI, vLLM, OpenAI-compatible or Ollama/);
        const opea = await init({ backend: 'opea', baseUrl: 'http://127.0.0.1:9' });
        assert.throws(() => opea.bindTools([weather()]), /Backend 'OPEA LLM service' cannot call tools \(the OPEA LLM service does not pass tools on to the model\)/);
      });
    });
  });

  describe('without a host @langchain/core (plain objects with the same methods)', () => {
    before(noHost);

    it('_streamResponseChunks and stream() yield the tokens as they arrive', async () => {
      const { server, firstSeen, released } = await gatedServer();
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
        assert.equal(model.fromHost, false);
        const tokens: string[] = [];
        const texts: string[] = [];
        for await (const chunk of model._streamResponseChunks([{ role: 'user', content: 'Say hello' }], {}, { handleLLMNewToken: (t: string) => tokens.push(t) })) {
          texts.push(chunk.text);
          if (texts.length === 1) firstSeen.resolve();
        }
        assert.equal(released(), 'gate');
        assert.deepEqual(texts.filter(Boolean), ['Hel', 'lo', ' there']);
        assert.deepEqual(tokens, ['Hel', 'lo', ' there']);
        const streamed: unknown[] = [];
        for await (const message of await model.stream('Say hello')) streamed.push(message.content);
        assert.equal(streamed.join(''), 'Hello there');
      } finally {
        await server.close();
      }
    });

    it('bindTools works on the plain object too', async () => {
      const server = await ScriptedServer.start(({ res }) => json(res, 200, completion({ tool_calls: [{ id: 'c9', type: 'function', function: { name: 'lookup', arguments: '{"q":"opea"}' } }] }, 'tool_calls')));
      try {
        const model = await init({ backend: 'vllm', modelName: 'm', baseUrl: server.url });
        const answer = (await model.bindTools([{ name: 'lookup', description: 'Search', schema: { type: 'object', properties: { q: { type: 'string' } } } }]).invoke('Find opea')) as ICommonObject;
        assert.deepEqual(answer.tool_calls, [{ id: 'c9', name: 'lookup', args: { q: 'opea' }, type: 'tool_call' }]);
        assert.equal(server.bodies[0].tools[0].function.name, 'lookup');
      } finally {
        await server.close();
      }
    });
  });
});
