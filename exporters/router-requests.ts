/**
 * What the exported pipeline does with the flow's settings under GMC's router, and the request bodies
 * that make it do what the flow does. Every difference that remains is a warning on its node. Every
 * target runs GMC's router (compose and Ansible run its image), so the warnings say "the router" and
 * exportPipeline names the targets they are about.
 *
 * Facts (GenAIInfra v1.1 cmd/router/main.go; GenAIComps v1.1, the images the bundles pin):
 * - the steps that come first get the client's body as it came; every later step (data: $response)
 *   gets the previous step's answer with the client's `parameters` copied over it (mergeRequests,
 *   l.237-261, called at l.348 and l.485);
 * - the 1.1 services pass only part of a request on: the embedding answers EmbedDoc(text, embedding)
 *   with EmbedDoc's defaults (comps/cores/proto/docarray.py l.95-104), the retriever answers a
 *   SearchedDoc without top_n (default 1, l.134-137), the reranker builds LLMParamsDoc(query,
 *   documents) with its defaults (l.175-195; comps/reranks/tei/reranking_tei.py). So the settings of
 *   CARRIED reach their service only through the request;
 * - a streamed answer cannot be handed to another step, and an Ensemble fails with 500 on one
 *   (l.386-405); each call has 30 s, body included (l.70).
 */
import { DECODE_SECONDS_PER_TOKEN, findBackend, ROUTER, service } from '../core/catalog';
import { MEMORY_NOT_EXPORTED, servicePrompt } from '../core/prompts/service';
import { Component, Kind, ParamValue, Platform } from '../core/model';
import { Plan, Stage } from '../core/plan';
import { ProblemList } from '../core/problems';

/** A node setting and the request field of the 1.1 service that honours it, with the value it takes when the request has none. */
interface Carried {
  param: string;
  field: string;
  deployed: ParamValue;
}

const CARRIED: Partial<Record<Kind, Carried[]>> = {
  retriever: [
    { param: 'searchK', field: 'k', deployed: 4 },
    { param: 'searchType', field: 'search_type', deployed: 'similarity' },
    { param: 'scoreThreshold', field: 'score_threshold', deployed: 0.2 },
    { param: 'fetchK', field: 'fetch_k', deployed: 20 },
    { param: 'lambdaMult', field: 'lambda_mult', deployed: 0.5 },
  ],
  rerank: [{ param: 'topN', field: 'top_n', deployed: 1 }],
  llm: [
    { param: 'maxTokens', field: 'max_tokens', deployed: 1024 },
    { param: 'temperature', field: 'temperature', deployed: 0.01 },
    { param: 'topP', field: 'top_p', deployed: 0.95 },
    { param: 'topK', field: 'top_k', deployed: 10 },
    { param: 'repetitionPenalty', field: 'repetition_penalty', deployed: 1.03 },
    { param: 'streaming', field: 'streaming', deployed: true },
  ],
};

/** Form fields of the 1.1 dataprep service (comps/dataprep/redis/langchain/prepare_doc_redis.py) and their defaults. */
const DATAPREP_FIELDS: Carried[] = [
  { param: 'chunkSize', field: 'chunk_size', deployed: 1500 },
  { param: 'chunkOverlap', field: 'chunk_overlap', deployed: 100 },
];

/** The question the README's examples ask. */
export const EXAMPLE_QUESTION = 'What is OPEA?';

/** A switch choice of a route: the key equals a rule's value, or (the default branch) none of them. */
export interface RouteChoice {
  key: string;
  equals?: string;
  notIn?: string[];
}

export interface RouteRequest {
  /** The switch choices this body makes, e.g. "model-id = intel"; '' without switches. */
  route: string;
  match: RouteChoice[];
  body: Record<string, unknown>;
}

export interface DataprepRequest {
  label: string;
  fields: Record<string, string>;
}

export interface DeployedRequests {
  routes: RouteRequest[];
  dataprep: DataprepRequest[];
  /** The library prompts the LLM nodes use, for the README. */
  prompts: UsedPrompt[];
}

export interface UsedPrompt {
  node: string;
  name: string;
  version: string;
  system: string;
  template: string;
}

/** A component on one route of the pipeline, and whether it gets the client's body as it came. */
interface Hop {
  component: Component;
  first: boolean;
  /** An ensemble branch or a later step takes its answer: it must not stream. */
  passedOn: boolean;
}

interface Route {
  choices: RouteChoice[];
  hops: Hop[];
}

const NO_ROUTE: Route = { choices: [], hops: [] };

const MAX_ROUTES = 16;

/** Every route through the switches (each choice of branch), with the components it runs. */
function routesOf(stages: Stage[], first: boolean, inEnsemble: boolean): Route[] {
  let routes: Route[] = [NO_ROUTE];
  let atStart = first;
  stages.forEach((stage, i) => {
    const isLast = i === stages.length - 1;
    let variants: Route[];
    if (stage.type === 'component') {
      variants = [{ choices: [], hops: [{ component: stage.component, first: atStart, passedOn: inEnsemble || !isLast }] }];
    } else if (stage.type === 'switch') {
      variants = stage.branches.flatMap((branch) =>
        routesOf(branch.stages, atStart, inEnsemble).map((r) => ({
          choices: [branch.otherwise ? { key: stage.route.key, notIn: stage.route.values } : { key: stage.route.key, equals: branch.value }, ...r.choices],
          hops: markPassedOn(r.hops, !isLast),
        })),
      );
    } else {
      variants = stage.branches.reduce<Route[]>((acc, branch) => cross(acc, routesOf(branch, atStart, true)), [NO_ROUTE]);
    }
    routes = cross(routes, variants).slice(0, MAX_ROUTES);
    atStart = false;
  });
  return routes;
}

function markPassedOn(hops: Hop[], passedOn: boolean): Hop[] {
  return passedOn ? hops.map((h) => ({ ...h, passedOn: true })) : hops;
}

function cross(a: Route[], b: Route[]): Route[] {
  return a.flatMap((x) => b.map((y) => ({ choices: [...x.choices, ...y.choices], hops: [...x.hops, ...y.hops] })));
}

function serviceTitle(component: Component): string {
  const deploy = findBackend(component.kind, component.backend)?.deploy;
  const chain = deploy?.type === 'service' ? service(deploy.service).chain : undefined;
  return chain ? `${chain.image.repository}:${chain.image.tag}` : `the ${component.kind} service`;
}

/** The request fields that give this hop the flow's behaviour, with the value the deployment takes without them. */
function settingsOf(hop: Hop): { field: string; value: ParamValue; deployed: ParamValue | undefined }[] {
  const { component } = hop;
  const list = (CARRIED[component.kind] ?? []).map((c) => {
    const value = c.field === 'streaming' && hop.passedOn ? false : (component.params[c.param] ?? c.deployed);
    return { field: c.field, value, deployed: c.deployed as ParamValue | undefined };
  });
  // The flow's template in the service's syntax, as Node-RED sends it (core/clients/llm.ts), so the deployed service builds the very prompt the flow reports.
  const prompt = component.kind === 'llm' ? servicePrompt(component.params) : undefined;
  if (prompt && 'chatTemplate' in prompt) list.push({ field: 'chat_template', value: prompt.chatTemplate, deployed: undefined });
  return list;
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

class RequestPlanner {
  private readonly warned = new Map<string, { component: Component; notes: string[] }>();

  constructor(
    private readonly platform: Platform,
    private readonly problems: ProblemList,
  ) {}

  /** Notes one difference of `component` (each said once, however many routes pass it). */
  private note(component: Component, text: string): void {
    const entry = this.warned.get(component.id) ?? { component, notes: [] };
    if (!entry.notes.includes(text)) entry.notes.push(text);
    this.warned.set(component.id, entry);
  }

  route(route: Route): RouteRequest {
    const body: Record<string, unknown> = {};
    const parameters: Record<string, unknown> = {};
    const setBy = new Map<string, Component>();
    for (const hop of route.hops) {
      const { component } = hop;
      if (hop.first) {
        if (component.kind === 'llm') body.query = EXAMPLE_QUESTION;
        else body.text = EXAMPLE_QUESTION;
      }
      for (const s of settingsOf(hop)) {
        const target = hop.first ? body : parameters;
        const owner = setBy.get(`${hop.first}:${s.field}`);
        if (owner && target[s.field] !== s.value) {
          this.note(component, `${s.field} ${json(s.value)} cannot be sent: one request carries one ${s.field}, and ${owner.label} (${owner.id}) on the same route needs ${json(target[s.field])}`);
          continue;
        }
        setBy.set(`${hop.first}:${s.field}`, component);
        target[s.field] = s.value;
        // A stream passed on is forced off: checkStreaming says why, once.
        if (s.value !== s.deployed && !(s.field === 'streaming' && hop.passedOn)) {
          const where = hop.first ? 'at the top level of the request body' : 'in the request\'s "parameters"';
          const deployed = s.deployed === undefined ? 'its own prompt' : `${s.field} ${json(s.deployed)}`;
          this.note(component, `${serviceTitle(component)} uses ${deployed} unless ${s.field} comes ${where} (the flow: ${s.field === 'chat_template' ? 'its template' : json(s.value)})`);
        }
      }
      if (component.kind === 'llm') {
        this.checkStreaming(hop);
        this.checkPrompt(component);
      }
    }
    if (Object.keys(parameters).length > 0) body.parameters = parameters;
    const label = route.choices.map((c) => `${c.key} = ${c.equals ?? 'any other value'}`).join(', ');
    // The switch keys the route's choices set come first, as a reader looks for them.
    const switchKeys = Object.fromEntries(route.choices.filter((c) => c.equals !== undefined).map((c) => [c.key, c.equals]));
    return { route: label, match: route.choices, body: { ...switchKeys, ...body } };
  }

  private checkPrompt(component: Component): void {
    const prompt = servicePrompt(component.params);
    if ('why' in prompt) this.note(component, `${serviceTitle(component)} builds its own prompt, not the flow's: ${prompt.why}`);
    if (typeof component.params.memory === 'string' && component.params.memory !== '') this.note(component, MEMORY_NOT_EXPORTED);
  }

  private checkStreaming(hop: Hop): void {
    const { component } = hop;
    if (hop.passedOn && component.params.streaming !== false) {
      this.note(component, 'it streams in the flow, but the router cannot hand a streamed answer to the next step or merge it into an ensemble, so the requests ask it for the whole answer (streaming false)');
    }
    const maxTokens = Number(component.params.maxTokens ?? 1024);
    const seconds = maxTokens * DECODE_SECONDS_PER_TOKEN[this.platform];
    if (seconds > ROUTER.callTimeoutSeconds) {
      this.note(component, `${maxTokens} tokens take about ${Math.round(seconds)} s on ${this.platform} (at ${DECODE_SECONDS_PER_TOKEN[this.platform]} s a token, a planning figure for a 7-8B model), beyond the ${ROUTER.callTimeoutSeconds} s the router gives each call, answer included; lower maxTokens to ${Math.floor(ROUTER.callTimeoutSeconds / DECODE_SECONDS_PER_TOKEN[this.platform])} or less, or deploy on faster hardware`);
    }
  }

  dataprep(component: Component): DataprepRequest {
    const fields: Record<string, string> = {};
    for (const c of DATAPREP_FIELDS) {
      const value = component.params[c.param] ?? c.deployed;
      fields[c.field] = String(value);
      if (value !== c.deployed) {
        this.note(component, `${serviceTitle(component)} cuts chunks with ${c.field} ${json(c.deployed)} unless the upload's form has ${c.field} (the flow: ${json(value)})`);
      }
    }
    return { label: component.label, fields };
  }

  /** Settings of a guardrail that the deployed OPEA guardrails service does not have. */
  guardrail(component: Component): void {
    const p = component.params;
    const active = (check: string, applies = true): boolean => applies && p[check] !== undefined && p[check] !== 'off';
    const local = [
      active('pii') && 'pii',
      active('secrets') && 'secrets',
      active('injection') && 'injection',
      active('banned', String(p.bannedWords ?? '').trim() !== '' || String(p.bannedTopics ?? '').trim() !== '') && 'banned',
      active('characters') && 'characters',
      active('limits', Number(p.maxChars ?? 0) > 0 || Number(p.maxTokens ?? 0) > 0) && 'limits',
      active('schema', String(p.jsonSchema ?? '').trim() !== '') && 'schema',
    ].filter((c): c is string => typeof c === 'string');
    const remote = String(p.remoteChecks ?? 'guardrails').split(/[\s,]+/).filter((c) => c !== '' && c !== 'guardrails');
    if (local.length > 0 || remote.length > 0) {
      const what = [...local.map((c) => `local check ${c}`), ...remote.map((c) => `service /v1/${c}`)].join(', ');
      this.note(component, `deployed, the rail is OPEA's guardrails service (Llama Guard) alone: ${what} run only in Node-RED`);
    }
  }

  flush(): void {
    for (const { component, notes } of this.warned.values()) {
      this.problems.warn(component.id, component.label, `deployed under the router: ${notes.join('; ')}`, 'send the request bodies of the bundle README (they carry the flow\'s settings), or change the node to what the deployment does');
    }
  }
}

/** The request bodies that reproduce the flow, per route and per dataprep entry; adds a warning per node whose behaviour differs. */
export function deployedRequests(plan: Plan, platform: Platform, problems: ProblemList): DeployedRequests {
  const planner = new RequestPlanner(platform, problems);
  const routes = routesOf(plan.stages, true, false);
  const requests = routes.map((r) => planner.route(r));
  for (const component of unique(routes.flatMap((r) => r.hops.map((h) => h.component)))) {
    if (component.kind === 'guardrail') planner.guardrail(component);
  }
  const dataprep = plan.sideComponents.filter((c) => c.kind === 'dataprep').map((c) => planner.dataprep(c));
  checkSwitches(plan.stages, problems);
  planner.flush();
  const prompts = unique(routes.flatMap((r) => r.hops.map((h) => h.component)))
    .filter((c) => c.kind === 'llm' && typeof c.params.promptName === 'string' && c.params.promptName !== '')
    .map((c) => ({ node: `${c.label} (${c.id})`, name: String(c.params.promptName), version: String(c.params.promptVersion), system: String(c.params.systemTemplate ?? ''), template: String(c.params.userTemplate ?? '') }));
  return { routes: requests, dataprep, prompts };
}

function unique(components: Component[]): Component[] {
  return [...new Map(components.map((c) => [c.id, c])).values()];
}

/** A switch without an "otherwise" rule behaves differently for a request no rule matches. */
function checkSwitches(stages: Stage[], problems: ProblemList): void {
  for (const stage of stages) {
    if (stage.type === 'component') continue;
    if (stage.type === 'ensemble') {
      stage.branches.forEach((b) => checkSwitches(b, problems));
      continue;
    }
    stage.branches.forEach((b) => checkSwitches(b.stages, problems));
    if (!stage.branches.some((b) => b.otherwise)) {
      const { route } = stage;
      const inNodeRed = route.answersOtherwise ? 'gets the answer of the "otherwise" rule\'s own path in Node-RED, which is not exported' : 'stops here in Node-RED (its client waits for a timeout)';
      problems.warn(route.id, route.label, `a request whose ${route.key} matches no rule ${inNodeRed}, while the router sends an empty body on: the next services answer 422 inside an HTTP 200, and when no step follows the switch the router process crashes (cmd/router/main.go reads the missing answer, l.580)`, route.answersOtherwise ? 'wire the "otherwise" rule to the stages such requests should take to export it as a default branch' : 'add an "otherwise" rule wired to the branch such requests should take: it is exported as a default branch');
    }
  }
}
