// A loopback HTTP server that speaks the guardrail protocols opea-guardrail calls: the OPEA guardrail
// microservices (POST /v1/guardrails, /v1/pii, /v1/injection, /v1/toxicity, /v1/bias with a TextDoc) and
// Llama Guard behind an OpenAI-compatible POST /v1/chat/completions. Test-only: binds 127.0.0.1 on an
// ephemeral port, reads bodies up to 1 MiB, answers at most `maxRequests` requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GuardrailServerOptions {
  /** What Llama Guard answers for a conversation (the message content, e.g. "unsafe\nS1,S10"). */
  llamaGuard?: (messages: { role: string; content: string }[]) => string;
  /** What an OPEA guardrail service answers for a text; default: the TextDoc echoed back (a pass). */
  opea?: (service: string, text: string) => unknown;
  /** Answer every request with this HTTP status instead. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  maxRequests?: number;
}

export interface GuardrailRequest {
  path: string;
  body: any;
  /** The client closed the connection before the answer was sent. */
  aborted?: boolean;
}

/** The refusal an OPEA guardrail microservice sends: its text names the policy, the black list stops the pipeline. */
export function opeaRefusal(policies: string): unknown {
  return { text: `Violated policies: ${policies}, please check your input.`, downstream_black_list: ['.*'] };
}

const MAX_BODY = 1 << 20;

export class GuardrailServer {
  readonly requests: GuardrailRequest[] = [];
  private server!: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  private constructor(private readonly options: GuardrailServerOptions) {}

  static async start(options: GuardrailServerOptions = {}): Promise<GuardrailServer> {
    const instance = new GuardrailServer(options);
    instance.server = http.createServer((req, res) => instance.handle(req, res));
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    instance.url = `http://127.0.0.1:${(instance.server.address() as AddressInfo).port}`;
    return instance;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.requests.length >= (this.options.maxRequests ?? 1000)) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.socket.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const request: GuardrailRequest = { path, body };
      this.requests.push(request);
      res.on('close', () => (request.aborted = !res.writableFinished));
      const reply = (status: number, value: unknown) => {
        const send = () => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (!this.options.delayMs) return send();
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!res.destroyed) send();
        }, this.options.delayMs);
        this.timers.add(timer);
      };
      if (this.options.status) return reply(this.options.status, { error: 'injected' });
      if (req.method !== 'POST' || !body) return reply(400, { detail: 'POST a JSON body' });
      if (path === '/v1/chat/completions') {
        const content = (this.options.llamaGuard ?? (() => 'safe'))(body.messages);
        return reply(200, { id: 'guard-1', object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
      }
      const service = /^\/v1\/(guardrails|pii|injection|toxicity|bias)$/.exec(path)?.[1];
      if (!service || typeof body.text !== 'string') return reply(404, { detail: 'Not Found' });
      return reply(200, (this.options.opea ?? ((_s: string, text: string) => ({ text })))(service, body.text));
    });
  }
}
