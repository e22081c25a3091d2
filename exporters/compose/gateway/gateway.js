// The gateway of a compose project exported by node-red-contrib-opea: it stands in front of OPEA's GMC
// router and makes the deployed pipeline do what the flow does.
// - It fills in the flow's settings a request leaves out: the body of the route the request takes
//   (routes.json, the same bodies as the README), the client's own values always winning.
// - When an input rail refuses a request, GMC 1.1's router stops the chain but answers HTTP 500
//   "failed to read from response body" (it closes the rail's answer before returning it): the
//   gateway asks the rail again and answers 403 with the rail's words.
// Node.js built-ins only. Usage: node gateway.js routes.json
'use strict';
const fs = require('node:fs');
const http = require('node:http');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const port = Number(process.env.GATEWAY_PORT || config.port);
const MAX_BODY = 10 * 1024 * 1024;
const CLOSED_ANSWER = 'failed to read from response body';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The first route whose switch choices the request makes (a missing key takes the default branch). */
function routeOf(body) {
  return config.routes.find((route) =>
    route.match.every((m) => (m.equals !== undefined ? String(body[m.key]) === m.equals : !m.notIn.includes(String(body[m.key])))),
  );
}

/** The route's body under the client's: settings the client left out come from the flow. */
function completed(body) {
  const route = routeOf(body);
  if (!route) return body;
  const question = body.text ?? body.query;
  const out = { ...route.fill, ...body };
  if (question !== undefined) for (const key of route.question) if (out[key] === undefined) out[key] = question;
  if (route.parameters) out.parameters = { ...route.parameters, ...(isObject(body.parameters) ? body.parameters : {}) };
  return out;
}

function call(url, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

/** The refusal of the first rail that refuses `text`, if any does. */
async function refusal(text) {
  for (const url of config.rails) {
    try {
      const answer = JSON.parse((await call(url, { text })).text);
      if (typeof answer.text === 'string' && answer.text.startsWith('Violated policies')) return answer.text;
    } catch {
      // A rail that cannot be asked says nothing; the router's own answer stands.
    }
  }
  return undefined;
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function passOn(res, answer) {
  res.writeHead(answer.statusCode, answer.headers);
  answer.pipe(res);
}

/** Sends `payload` to the router at the request's path; `onAnswer` takes its answer (default: passed on as it comes). */
function toRouter(req, res, payload, headers, onAnswer = (answer) => passOn(res, answer)) {
  const upstream = http.request(new URL(req.url, config.router), { method: req.method, headers }, onAnswer);
  upstream.on('error', (err) => reply(res, 502, { error: `the router could not be reached: ${err.message}` }));
  upstream.end(payload);
}

async function handle(req, res, raw) {
  if (req.url.startsWith('/dataprep')) {
    // An upload the gateway has nothing to add to goes on as it came.
    const headers = { ...req.headers };
    delete headers.host;
    return toRouter(req, res, raw, headers);
  }
  let body;
  try {
    body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    return reply(res, 400, { error: 'the request body is not JSON' });
  }
  const sent = isObject(body) ? completed(body) : body;
  toRouter(req, res, JSON.stringify(sent), { 'content-type': 'application/json' }, (answer) => {
    if (answer.statusCode !== 500 || config.rails.length === 0) return passOn(res, answer);
    const chunks = [];
    answer.on('data', (c) => chunks.push(c));
    answer.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const words = text.trim() === CLOSED_ANSWER && isObject(sent) ? await refusal(sent.text ?? sent.query) : undefined;
      if (words) return reply(res, 403, { error: 'refused by the input guardrail', text: words });
      res.writeHead(500, answer.headers);
      res.end(text);
    });
  });
}

http
  .createServer((req, res) => {
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST a request body' });
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  })
  .listen(port, process.env.GATEWAY_HOST || '0.0.0.0');
