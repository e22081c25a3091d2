/**
 * Traces with the OpenTelemetry SDK: one tracer provider per process, exporting over OTLP/HTTP. Off
 * until configured; the SDK is only loaded then. While a node's work runs, its span is the current one
 * (an AsyncLocalStorage), so every request the endpoint sends for it carries the span's W3C
 * `traceparent` and records the server it went to.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { setRequestHeaderHook } from '../clients/endpoint';
import { Attributes, serverAttributes } from './attributes';

export interface TracingConfig {
  /** The OTLP/HTTP traces URL; when absent the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT (else localhost:4318). */
  url?: string;
  headers?: Record<string, string>;
  serviceName: string;
}

export const DEFAULT_SERVICE_NAME = 'node-red';

/**
 * Whether and where to export traces, from the `tracing` part of settings.js's `opeaTelemetry` and the
 * standard OTEL_* variables. Off unless asked for: `tracing: {endpoint, serviceName?, headers?}` or
 * `true` in the settings, or OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint variable set while
 * OTEL_TRACES_EXPORTER is unset. `tracing: false` and OTEL_SDK_DISABLED=true switch it off.
 */
export function tracingConfig(setting: unknown, env: NodeJS.ProcessEnv): { config?: TracingConfig; problem?: string } {
  if (setting === false || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return {};
  const serviceName = (o: { serviceName?: unknown }) => (typeof o.serviceName === 'string' && o.serviceName.trim() !== '' ? o.serviceName.trim() : env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME);
  if (setting === true) return { config: { serviceName: serviceName({}) } };
  if (setting !== undefined && setting !== null) {
    if (typeof setting !== 'object' || Array.isArray(setting)) return { problem: 'opeaTelemetry.tracing must be true, false or {endpoint, serviceName, headers}' };
    const s = setting as { endpoint?: unknown; headers?: unknown; serviceName?: unknown };
    if (s.endpoint !== undefined && (typeof s.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(s.endpoint))) {
      return { problem: `opeaTelemetry.tracing.endpoint must be the http(s) URL of an OTLP/HTTP traces receiver, such as http://127.0.0.1:4318/v1/traces, not ${JSON.stringify(s.endpoint)}` };
    }
    if (s.headers !== undefined && (typeof s.headers !== 'object' || s.headers === null || !Object.values(s.headers).every((v) => typeof v === 'string'))) {
      return { problem: 'opeaTelemetry.tracing.headers must be an object of strings: {"Name": "value"}' };
    }
    return { config: { url: s.endpoint as string | undefined, headers: s.headers as Record<string, string> | undefined, serviceName: serviceName(s) } };
  }
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (exporters.includes('otlp')) return { config: { serviceName: serviceName({}) } };
  if (exporters.length > 0) {
    return exporters.every((e) => e === 'none') ? {} : { problem: `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: this pack exports traces with otlp (OTLP/HTTP) only` };
  }
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) return { config: { serviceName: serviceName({}) } };
  return {};
}

/** One node's span while it works on a message. */
export interface NodeSpan {
  /** The W3C trace context of this span, for the message to carry to the next nodes. */
  readonly traceparent: string | undefined;
  /** Runs `work` with this span current, so the requests it sends carry its traceparent. */
  run<T>(work: () => T): T;
  end(attributes: Attributes): void;
  fail(err: unknown, kind: string): void;
}

class Tracing {
  private readonly current = new AsyncLocalStorage<Span>();
  private readonly api: typeof import('@opentelemetry/api');
  private readonly propagator: TextMapPropagator;
  private readonly tracer: Tracer;

  constructor(
    readonly key: string,
    private readonly provider: BasicTracerProvider,
  ) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    this.api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
    const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
    /* eslint-enable @typescript-eslint/no-require-imports */
    this.propagator = new W3CTraceContextPropagator();
    this.tracer = provider.getTracer('node-red-contrib-opea');
  }

  /** The traceparent header of `span`. */
  headersOf(span: Span): Record<string, string> {
    const carrier: Record<string, string> = {};
    this.propagator.inject(this.api.trace.setSpan(this.api.ROOT_CONTEXT, span), carrier, this.api.defaultTextMapSetter);
    return carrier;
  }

  /** Headers for a request sent now: the current span's traceparent; the span learns the server. */
  requestHeaders(url: string): Record<string, string> | undefined {
    const span = this.current.getStore();
    if (!span) return undefined;
    span.setAttributes(serverAttributes(url));
    return this.headersOf(span);
  }

  start(name: string, attributes: Attributes, parentTraceparent: string | undefined): NodeSpan {
    const { api } = this;
    const parent = parentTraceparent ? this.propagator.extract(api.ROOT_CONTEXT, { traceparent: parentTraceparent }, api.defaultTextMapGetter) : api.ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, parent);
    const current = this.current;
    return {
      traceparent: this.headersOf(span).traceparent,
      run: (work) => current.run(span, work),
      end: (result) => {
        span.setAttributes(result);
        span.end();
      },
      fail: (err, kind) => {
        span.setAttribute('error.type', kind);
        span.recordException(err instanceof Error ? err : new Error(String(err)));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        span.end();
      },
    };
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

let active: Tracing | undefined;

function createProvider(config: TracingConfig): BasicTracerProvider {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { detectResources, envDetector, resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // OTEL_RESOURCE_ATTRIBUTES first, so the service name chosen here wins over a service.name in it.
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': config.serviceName }));
  const exporter = new OTLPTraceExporter({ ...(config.url ? { url: config.url } : {}), ...(config.headers ? { headers: config.headers } : {}) });
  return new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
}

/**
 * Switches tracing to `config` (undefined: off). The same config again keeps the provider; another
 * replaces it, flushing and shutting down the previous one.
 */
export function configureTracing(config: TracingConfig | undefined): void {
  const key = config ? JSON.stringify(config) : '';
  if ((active?.key ?? '') === key) return;
  const previous = active;
  active = config ? new Tracing(key, createProvider(config)) : undefined;
  const tracing = active;
  setRequestHeaderHook(tracing ? (url) => tracing.requestHeaders(url) : undefined);
  void previous?.shutdown().catch(() => undefined);
}

export function tracingOn(): boolean {
  return active !== undefined;
}

/** A span for one node's work, the child of `parentTraceparent` when given, else the root of a new trace. Undefined when tracing is off. */
export function startNodeSpan(name: string, attributes: Attributes, parentTraceparent: string | undefined): NodeSpan | undefined {
  return active?.start(name, attributes, parentTraceparent);
}

/**
 * Exports the spans ended so far (they are otherwise sent in batches every few seconds); gives up
 * after `limitMs`, so an unreachable collector cannot hold up a stop.
 */
export async function flushTracing(limitMs = 3000): Promise<void> {
  if (!active) return;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, limitMs);
  });
  await Promise.race([active.flush().catch(() => undefined), limit]).finally(() => clearTimeout(timer));
}
