/**
 * A loopback model server that serves requests one batch at a time and exposes the Prometheus metrics
 * of TGI, vLLM or TEI at /metrics, with the names and label shapes those servers write:
 * - TGI v2.4.0 (metrics-rs exporter: counters without _total, histograms without labels but
 *   tgi_batch_inference_duration{method}): router/src/server.rs l.159 (tgi_request_count), l.390-397
 *   (tgi_request_success, tgi_request_duration, tgi_request_queue_duration,
 *   tgi_request_mean_time_per_token_duration, tgi_request_generated_tokens), backends/v3/src/queue.rs
 *   l.142 (tgi_queue_size), backends/v3/src/backend.rs l.162 (tgi_batch_current_size) and l.302
 *   (tgi_batch_inference_duration{method="prefill"}).
 * - vLLM (Python prometheus_client: HELP/TYPE lines, counters as <name>_total plus <name>_created,
 *   labels model_name and engine): vllm/v1/metrics/loggers.py PrometheusStatLogger
 *   (vllm:num_requests_running, vllm:num_requests_waiting, vllm:generation_tokens,
 *   vllm:request_success, vllm:time_to_first_token_seconds, vllm:time_per_output_token_seconds,
 *   vllm:e2e_request_latency_seconds, vllm:request_queue_time_seconds).
 * - TEI v1.5.0: router/src/http/server.rs l.168 (te_request_count{method}), router/src/lib.rs
 *   l.583-587 (te_request_duration, te_request_queue_duration), core/src/queue.rs l.113 and l.202
 *   (te_queue_size, te_batch_next_size).
 * Requests beyond `batchSize` wait in a queue for real, so the queue and batch figures are the ones
 * this server saw.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { closeServer, listenLoopback } from './loopback';

export type MetricsServerKind = 'tgi' | 'vllm' | 'tei';

export interface MetricsServerOptions {
  kind: MetricsServerKind;
  /** Requests served at once; more wait in the queue. */
  batchSize: number;
  /** Tokens each chat answer has. */
  tokens: number;
  tokenDelayMs: number;
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.bounds.forEach((b, i) => {
      if (v <= b) this.counts[i]++;
    });
  }
  /** Sample lines; `labels` are written before le, as both exporters do. */
  lines(name: string, labels: string): string[] {
    const sep = labels ? `${labels},` : '';
    const wrap = labels ? `{${labels}}` : '';
    return [
      ...this.bounds.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{${sep}le="+Inf"} ${this.count}`,
      `${name}_sum${wrap} ${this.sum}`,
      `${name}_count${wrap} ${this.count}`,
    ];
  }
}

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TOKENS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class MetricsModelServer {
  url = '';
  requests = 0;
  /** Largest number served at once, and largest waiting, as this server counted them. */
  maxRunning = 0;
  maxWaiting = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly queue = new Histogram(SECONDS);
  private readonly duration = new Histogram(SECONDS);
  private readonly ttft = new Histogram(SECONDS);
  private readonly perToken = new Histogram(SECONDS);
  private readonly generated = new Histogram(TOKENS);
  private readonly prefill = new Histogram(SECONDS);
  private readonly batches = new Histogram(TOKENS);
  private generatedTotal = 0;
  private readonly server: http.Server;

  private constructor(private readonly options: MetricsServerOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: MetricsServerOptions): Promise<MetricsModelServer> {
    const s = new MetricsModelServer(options);
    s.url = await listenLoopback(s.server);
    return s;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async slot(): Promise<number> {
    const queued = performance.now();
    if (this.running >= this.options.batchSize) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.maxWaiting = Math.max(this.maxWaiting, this.waiting.length);
      });
    }
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.batches.observe(this.running);
    return (performance.now() - queued) / 1000;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(this.metricsText());
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    this.requests++;
    const started = performance.now();
    const queued = await this.slot();
    this.queue.observe(queued);
    try {
      if (this.options.kind === 'tei') {
        await new Promise((r) => setTimeout(r, this.options.tokenDelayMs));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([[0.1, 0.2, 0.3]]));
        return;
      }
      const stream = (JSON.parse(body || '{}') as { stream?: boolean }).stream === true;
      const answering = performance.now();
      const firstAt = await this.answer(res, stream);
      const answerSeconds = (performance.now() - answering) / 1000;
      // vLLM's TTFT counts from arrival, queue included; the prefill is the first token's own time.
      this.ttft.observe(queued + firstAt);
      this.prefill.observe(firstAt);
      this.perToken.observe((answerSeconds - firstAt) / Math.max(this.options.tokens - 1, 1));
      this.generated.observe(this.options.tokens);
      this.generatedTotal += this.options.tokens;
    } finally {
      this.duration.observe((performance.now() - started) / 1000);
      this.release();
    }
  }

  /** Writes the chat answer; returns the seconds from the start of the answer to its first token. */
  private async answer(res: http.ServerResponse, stream: boolean): Promise<number> {
    const start = performance.now();
    const { tokens, tokenDelayMs } = this.options;
    const usage = { prompt_tokens: 5, completion_tokens: tokens, total_tokens: 5 + tokens };
    let first = 0;
    if (!stream) {
      for (let i = 0; i < tokens; i++) await new Promise((r) => setTimeout(r, tokenDelayMs));
      first = (performance.now() - start) / 1000;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'tok '.repeat(tokens) }, finish_reason: 'length' }], usage }));
      return first;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < tokens; i++) {
      await new Promise((r) => setTimeout(r, tokenDelayMs));
      if (i === 0) first = (performance.now() - start) / 1000;
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
    return first;
  }

  metricsText(): string {
    const { kind } = this.options;
    if (kind === 'tgi') {
      return [
        '# TYPE tgi_request_count counter', `tgi_request_count ${this.requests}`,
        '# TYPE tgi_request_success counter', `tgi_request_success ${this.generated.count}`,
        '# TYPE tgi_queue_size gauge', `tgi_queue_size ${this.waiting.length}`,
        '# TYPE tgi_batch_current_size gauge', `tgi_batch_current_size ${this.running}`,
        '# TYPE tgi_request_queue_duration histogram', ...this.queue.lines('tgi_request_queue_duration', ''),
        '# TYPE tgi_request_duration histogram', ...this.duration.lines('tgi_request_duration', ''),
        '# TYPE tgi_request_mean_time_per_token_duration histogram', ...this.perToken.lines('tgi_request_mean_time_per_token_duration', ''),
        '# TYPE tgi_request_generated_tokens histogram', ...this.generated.lines('tgi_request_generated_tokens', ''),
        '# TYPE tgi_batch_inference_duration histogram', ...this.prefill.lines('tgi_batch_inference_duration', 'method="prefill"'),
        '',
      ].join('\n');
    }
    if (kind === 'vllm') {
      const l = 'model_name="m",engine="0"';
      const created = `${Math.floor(Date.now() / 1000)}.0`;
      const counter = (name: string, help: string, value: number) => [`# HELP ${name}_total ${help}`, `# TYPE ${name}_total counter`, `${name}_total{${l}} ${value}.0`, `# HELP ${name}_created ${help}`, `# TYPE ${name}_created gauge`, `${name}_created{${l}} ${created}`];
      const histogram = (name: string, help: string, h: Histogram) => [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...h.lines(name, l), `${name}_created{${l}} ${created}`];
      return [
        '# HELP vllm:num_requests_running Number of requests in model execution batches.', '# TYPE vllm:num_requests_running gauge', `vllm:num_requests_running{${l}} ${this.running}.0`,
        '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.', '# TYPE vllm:num_requests_waiting gauge', `vllm:num_requests_waiting{${l}} ${this.waiting.length}.0`,
        ...counter('vllm:generation_tokens', 'Number of generation tokens processed.', this.generatedTotal),
        ...counter('vllm:request_success', 'Count of successfully processed requests.', this.generated.count),
        ...histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', this.ttft),
        ...histogram('vllm:time_per_output_token_seconds', 'Histogram of time per output token in seconds.', this.perToken),
        ...histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', this.queue),
        ...histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', this.duration),
        '',
      ].join('\n');
    }
    return [
      '# TYPE te_request_count counter', `te_request_count{method="single"} ${this.requests}`,
      '# TYPE te_request_success counter', `te_request_success{method="single"} ${this.duration.count}`,
      '# TYPE te_queue_size gauge', `te_queue_size ${this.waiting.length}`,
      '# TYPE te_request_duration histogram', ...this.duration.lines('te_request_duration', ''),
      '# TYPE te_request_queue_duration histogram', ...this.queue.lines('te_request_queue_duration', ''),
      '# TYPE te_batch_next_size histogram', ...this.batches.lines('te_batch_next_size', ''),
      '',
    ].join('\n');
  }
}
