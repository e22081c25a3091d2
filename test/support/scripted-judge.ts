// A loopback judge for the evaluator's tests: an HTTP server on 127.0.0.1 speaking OpenAI chat
// completions and /v1/embeddings. Each chat prompt's kind (its first line, `TASK: <kind>`) picks a
// scripted reply; embeddings come from a scripted function of the text. Bounded: bodies over 1 MB
// and requests beyond `maxRequests` are refused, and every request is recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Script = Record<string, (prompt: string) => unknown>;

export interface JudgeRequest {
  path: string;
  kind?: string;
  prompt?: string;
  body: Record<string, unknown>;
}

export interface ScriptedJudgeOptions {
  /** Reply per prompt kind: an object is sent as its JSON text, a string as it is. */
  script: Script;
  embed?: (text: string) => number[];
  maxRequests?: number;
  /** Wait this long before answering each chat completion. */
  delayMs?: number;
}

const MAX_BODY = 1 << 20;

const completion = (content: string) => ({ id: 'judge', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } });

export class ScriptedJudge {
  readonly requests: JudgeRequest[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(options: ScriptedJudgeOptions): Promise<ScriptedJudge> {
    const maxRequests = options.maxRequests ?? 500;
    const embed = options.embed ?? (() => [1, 0]);
    let judge: ScriptedJudge | undefined;
    const server = http.createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      let size = 0;
      const parts: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy();
        else parts.push(chunk);
      });
      req.on('end', () => {
        const requests = (judge as ScriptedJudge).requests;
        if (requests.length >= maxRequests) return reply(429, { error: 'request budget spent' });
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          return reply(400, { error: 'body is not JSON' });
        }
        if (req.method === 'POST' && req.url === '/v1/embeddings') {
          requests.push({ path: req.url, body });
          const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
          return reply(200, { object: 'list', data: input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })) });
        }
        if (req.method === 'POST' && req.url === '/v1/chat/completions') {
          const messages = body.messages as { content: string }[];
          const prompt = messages[messages.length - 1].content;
          const kind = /^TASK: (\S+)/.exec(prompt)?.[1];
          requests.push({ path: req.url, kind, prompt, body });
          const answer = kind && options.script[kind] ? options.script[kind](prompt) : undefined;
          if (answer === undefined) return reply(500, { error: `no script for prompt kind ${kind}` });
          const content = typeof answer === 'string' ? answer : JSON.stringify(answer);
          if (options.delayMs) {
            setTimeout(() => res.writable && reply(200, completion(content)), options.delayMs);
            return;
          }
          return reply(200, completion(content));
        }
        return reply(404, { error: `no route ${req.method} ${req.url}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    judge = new ScriptedJudge(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return judge;
  }

  callsOf(kind: string): JudgeRequest[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The text after `<label>:\n` in a prompt, up to the next blank line. */
export function section(prompt: string, label: string): string {
  const start = prompt.indexOf(`${label}:\n`);
  if (start < 0) return '';
  const rest = prompt.slice(start + label.length + 2);
  const end = rest.indexOf('\n\n');
  return end < 0 ? rest : rest.slice(0, end);
}
