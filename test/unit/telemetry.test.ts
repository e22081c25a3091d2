import assert from 'node:assert/strict';
import http from 'node:http';
import { createEndpoint, ENDPOINT_DEFAULTS, ServiceError } from '../../core/clients/endpoint';
import { ContractError } from '../../core/contract/documents';
import { ATTR, errorKind, resultAttributes, spanName, startAttributes } from '../../core/telemetry/attributes';
import { tracingConfig, tracingOn } from '../../core/telemetry/tracing';
import { Red } from '../../nodes/shared/red';
import { metricsSetting, startTelemetry } from '../../nodes/shared/telemetry';
import { closeServer, freePort, listenLoopback } from '../support/loopback';

// The pinned package's incubating entry (its exports map; the compiler's node resolution does not read it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semconv = require('@opentelemetry/semantic-conventions/incubating') as Record<string, string>;

describe('telemetry: attribute names, settings and error kinds', () => {
  it('uses the GenAI, server, url and error attribute names of @opentelemetry/semantic-conventions as pinned', () => {
    const expected: Record<string, string> = {
      operationName: 'ATTR_GEN_AI_OPERATION_NAME',
      providerName: 'ATTR_GEN_AI_PROVIDER_NAME',
      system: 'ATTR_GEN_AI_SYSTEM',
      requestModel: 'ATTR_GEN_AI_REQUEST_MODEL',
      inputTokens: 'ATTR_GEN_AI_USAGE_INPUT_TOKENS',
      outputTokens: 'ATTR_GEN_AI_USAGE_OUTPUT_TOKENS',
      timeToFirstChunk: 'ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK',
      finishReasons: 'ATTR_GEN_AI_RESPONSE_FINISH_REASONS',
      embeddingDimensions: 'ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT',
      serverAddress: 'ATTR_SERVER_ADDRESS',
      serverPort: 'ATTR_SERVER_PORT',
      urlFull: 'ATTR_URL_FULL',
      errorType: 'ATTR_ERROR_TYPE',
    };
    for (const [key, constant] of Object.entries(expected)) {
      assert.equal(ATTR[key as keyof typeof ATTR], semconv[constant], `${key} is ${constant}`);
    }
    assert.equal(semconv.GEN_AI_OPERATION_NAME_VALUE_CHAT, 'chat');
    assert.equal(semconv.GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS, 'embeddings');
    assert.equal(semconv.GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL, 'retrieval');
  });

  it('names spans "{operation} {model}" and sets the operation only for kinds the conventions name', () => {
    const llm = { id: 'n1', type: 'opea-llm', label: 'answer', kind: 'llm', backend: 'vllm', model: 'm/7b' };
    assert.equal(spanName(llm), 'chat m/7b');
    assert.deepEqual(startAttributes(llm), {
      'opea.node.id': 'n1', 'opea.node.label': 'answer', 'opea.node.type': 'opea-llm',
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'vllm', 'gen_ai.system': 'vllm', 'gen_ai.request.model': 'm/7b',
    });
    const rail = { id: 'g', type: 'opea-guardrail', label: 'input rail', kind: 'guardrail', backend: 'local' };
    assert.equal(spanName(rail), 'guardrail input rail');
    assert.equal(startAttributes(rail)['gen_ai.operation.name'], undefined);
    assert.deepEqual(resultAttributes('guardrail', { findings: 2 }, { verdict: 'blocked', findings: [{ check: 'pii' }, { check: 'injection' }, { check: 'pii' }] }), {
      'opea.guardrail.verdict': 'blocked', 'opea.guardrail.policies': ['injection', 'pii'],
    });
    assert.deepEqual(resultAttributes('llm', { promptTokens: 12, completionTokens: 5, ttftMs: 250, finishReason: 'stop' }), {
      'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 5, 'gen_ai.response.time_to_first_chunk': 0.25, 'gen_ai.response.finish_reasons': ['stop'],
    });
  });

  it('tracing is off unless settings.js or the OTEL_* variables ask for it', () => {
    assert.deepEqual(tracingConfig(undefined, {}), {});
    assert.deepEqual(tracingConfig(undefined, { OTEL_SERVICE_NAME: 'x' }), {});
    assert.deepEqual(tracingConfig(undefined, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), {});
    assert.deepEqual(tracingConfig(undefined, { OTEL_TRACES_EXPORTER: 'otlp' }), { config: { serviceName: 'node-red' } });
    assert.deepEqual(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'rag' }), { config: { serviceName: 'rag' } });
    assert.deepEqual(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), { config: { serviceName: 'node-red' } });
    assert.match(tracingConfig(undefined, { OTEL_TRACES_EXPORTER: 'zipkin' }).problem ?? '', /otlp \(OTLP\/HTTP\) only/);
    assert.deepEqual(tracingConfig(false, { OTEL_TRACES_EXPORTER: 'otlp' }), {});
    assert.deepEqual(tracingConfig({ endpoint: 'http://127.0.0.1:4318/v1/traces' }, { OTEL_SDK_DISABLED: 'true' }), {});
    assert.deepEqual(tracingConfig({ endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'studio', headers: { a: 'b' } }, { OTEL_SERVICE_NAME: 'env' }), {
      config: { url: 'http://127.0.0.1:4318/v1/traces', headers: { a: 'b' }, serviceName: 'studio' },
    });
    assert.deepEqual(tracingConfig(true, { OTEL_SERVICE_NAME: 'env' }), { config: { serviceName: 'env' } });
    assert.match(tracingConfig({ endpoint: 'collector:4318' }, {}).problem ?? '', /must be the http\(s\) URL of an OTLP\/HTTP traces receiver/);
    assert.match(tracingConfig({ headers: { a: 1 } }, {}).problem ?? '', /headers must be an object of strings/);
  });

  it('metrics: true is the admin route, {port} a port of its own, anything else a problem', () => {
    assert.deepEqual(metricsSetting(undefined), {});
    assert.deepEqual(metricsSetting(false), {});
    assert.deepEqual(metricsSetting(true), { setting: { adminRoute: true, host: '127.0.0.1' } });
    assert.deepEqual(metricsSetting({ port: 9464 }), { setting: { adminRoute: false, port: 9464, host: '127.0.0.1' } });
    assert.deepEqual(metricsSetting({ port: 9464, host: '0.0.0.0', adminRoute: true }), { setting: { adminRoute: true, port: 9464, host: '0.0.0.0' } });
    assert.match(metricsSetting({ port: 70000 }).problem ?? '', /port must be a port number from 1 to 65535/);
    assert.match(metricsSetting('yes').problem ?? '', /must be true, false or/);
  });

  it('an OpenTelemetry package left out (npm install --omit=optional): tracing stays off, with a warning naming it', () => {
    // Module._load, not _resolveFilename: require skips resolving a module its caller loaded before
    // (the node tests switch tracing on first in a full run), but always goes through _load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
    const load = Module._load;
    Module._load = function (this: unknown, request: string, ...rest: unknown[]) {
      if (request === '@opentelemetry/sdk-trace-base') throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
      return load.call(this, request, ...rest);
    };
    const warnings: string[] = [];
    const red = (opeaTelemetry: unknown) => ({ settings: { opeaTelemetry }, nodes: {}, log: { warn: (m: string) => warnings.push(m) } }) as unknown as Red;
    try {
      startTelemetry(red({ tracing: { endpoint: 'http://127.0.0.1:9/v1/traces' } }));
    } finally {
      Module._load = load;
    }
    assert.equal(tracingOn(), false);
    assert.deepEqual(warnings, ["opea tracing is off: @opentelemetry/sdk-trace-base is not installed (an optional dependency of node-red-contrib-opea): install node-red-contrib-opea again without --omit=optional (or --no-optional), or npm install @opentelemetry/sdk-trace-base in the Node-RED user directory"]);
    startTelemetry(red({ tracing: { endpoint: 'http://127.0.0.1:9/v1/traces' } }));
    assert.equal(tracingOn(), true, 'with the package there, the same setting switches tracing on');
    startTelemetry(red(undefined));
    assert.equal(tracingOn(), false);
  });

  describe('error kinds of the errors the endpoint really throws', () => {
    let server: http.Server;
    let url = '';
    before(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/500') res.writeHead(500).end('{"error":"down"}');
        else if (req.url === '/404') res.writeHead(404).end('no');
        else if (req.url === '/text') res.writeHead(200, { 'Content-Type': 'text/plain' }).end('not json');
        // /slow never answers: the timeout fires
      });
      url = await listenLoopback(server);
    });
    after(() => closeServer(server));

    const endpoint = (baseUrl: string) => createEndpoint({ ...ENDPOINT_DEFAULTS, baseUrl, timeoutMs: 300, retries: 0, backoffMs: 1, headers: {} });
    const kindOf = (promise: Promise<unknown>) => promise.then(() => assert.fail('no error'), (err: unknown) => errorKind(err));

    it('http_5xx, http_4xx, bad_answer, timeout, connection, cancelled', async () => {
      assert.equal(await kindOf(endpoint(url).postJson('/500', {})), 'http_5xx');
      assert.equal(await kindOf(endpoint(url).postJson('/404', {})), 'http_4xx');
      assert.equal(await kindOf(endpoint(url).postJson('/text', {})), 'bad_answer');
      assert.equal(await kindOf(endpoint(url).postJson('/slow', {})), 'timeout');
      assert.equal(await kindOf(endpoint(`http://127.0.0.1:${await freePort()}`).postJson('/x', {})), 'connection');
      const controller = new AbortController();
      const pending = endpoint(url).postJson('/slow', {}, controller.signal);
      setTimeout(() => controller.abort(), 20);
      assert.equal(await kindOf(pending), 'cancelled');
    });

    it('invalid_input for a contract error, other for anything else', () => {
      assert.equal(errorKind(new ContractError('bad', 'fix')), 'invalid_input');
      assert.equal(errorKind(new ServiceError('http://x', 'odd', 'hint')), 'bad_answer');
      assert.equal(errorKind(new Error('x')), 'other');
    });
  });
});
