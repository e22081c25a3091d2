import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { CHAIN_TAG } from '../../core/catalog';
import { Platform } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline } from '../../exporters';
import { checkComposeProject } from '../../exporters/compose/check';
import { gmcShape } from '../support/gmc-shape';
import { exampleFlow, referenceYaml, REPO_ROOT } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function exportAll(flow: unknown, platform: Platform = 'xeon'): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, ['gmc', 'compose'], { platform }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  return bundle as Record<string, string>;
}

/**
 * The model servers OPEA 1.1 ran beside the chain images: GenAIInfra v1.1 microservices-connector/config/
 * manifests (tei.yaml, teirerank.yaml, tei_gaudi.yaml, teirerank_gaudi.yaml, tgi.yaml, tgi_gaudi.yaml,
 * tgi_nv.yaml) and GenAIExamples v1.1 ChatQnA/docker_compose (on NVIDIA its reranker's TEI, the GPU build).
 */
const OPEA_1_1_MODEL_SERVERS: Record<Platform, { tei: string; tgi: string }> = {
  xeon: { tei: 'ghcr.io/huggingface/text-embeddings-inference:cpu-1.5', tgi: 'ghcr.io/huggingface/text-generation-inference:2.4.0-intel-cpu' },
  gaudi: { tei: 'ghcr.io/huggingface/tei-gaudi:1.5.0', tgi: 'ghcr.io/huggingface/tgi-gaudi:2.0.6' },
  nvidia: { tei: 'ghcr.io/huggingface/text-embeddings-inference:1.5', tgi: 'ghcr.io/huggingface/text-generation-inference:2.2.0' },
};

function composeOf(files: Record<string, string>): Json {
  return yaml.load(files['compose/compose.yaml']) as Json;
}

/** What Docker Compose does to a string: `$$` becomes `$`; any other `$` would be interpolated. */
function uninterpolated(text: string): string {
  assert.ok(!/(^|[^$])\$(\$\$)*[A-Za-z{_]/.test(text.replace(/\$\$/g, '')), `unescaped $ in ${text.slice(0, 80)}`);
  return text.replace(/\$\$/g, '$');
}

function routerGraph(compose: Json): Json {
  const command = compose.services['router-service'].command as string[];
  assert.equal(command[0], '--graph-json');
  return JSON.parse(uninterpolated(command[1]));
}

describe('compose exporter', () => {
  for (const flowFile of ['chatqna.json', 'chatqna-switch.json']) {
    describe(`flows/${flowFile}`, () => {
      const files = exportAll(exampleFlow(flowFile));
      const compose = composeOf(files);
      const cr = yaml.load(Object.entries(files).find(([k]) => k.startsWith('gmc/'))?.[1] as string) as Json;

      it('is a valid compose project with a lowercase name', () => {
        assert.deepEqual(checkComposeProject(compose), []);
        assert.match(compose.name, /^[a-z0-9][a-z0-9_-]*$/);
      });

      it('routes with GMC\'s router over the very GMConnector of the GMC export', () => {
        const graph = routerGraph(compose);
        assert.deepEqual(gmcShape(graph), gmcShape(cr));
        const stripped = structuredClone(graph);
        for (const node of Object.values(stripped.spec.nodes) as Json[]) for (const step of node.steps) delete step.serviceUrl;
        assert.deepEqual(stripped, cr);
      });

      it('points every executed step at a compose service, on the port and path that service serves', () => {
        const graph = routerGraph(compose);
        for (const node of Object.values(graph.spec.nodes) as Json[]) {
          for (const step of node.steps) {
            if (step.nodeName) continue;
            const name = step.internalService.serviceName;
            assert.ok(compose.services[name], name);
            if (step.internalService.isDownstreamService) continue;
            const url = new URL(step.serviceUrl);
            assert.equal(url.hostname, name);
            const probe = JSON.stringify(compose.services[name].healthcheck.test);
            assert.ok(probe.includes(`localhost:${url.port}/`), `${name} probes the port it is called on`);
            assert.equal(url.pathname, step.internalService.config.endpoint);
          }
        }
      });

      it('publishes only the gateway port, in front of the router, and starts the router after every microservice is healthy', () => {
        const published = Object.entries(compose.services).filter(([, s]) => (s as Json).ports);
        assert.deepEqual(published.map(([n]) => n), ['gateway']);
        assert.deepEqual(compose.services.gateway.ports, ['${ROUTER_PORT:-8080}:8888']);
        assert.deepEqual(compose.services.gateway.volumes, ['./gateway:/gateway:ro']);
        assert.equal(files['compose/gateway/gateway.js'], fs.readFileSync(path.join(REPO_ROOT, 'exporters', 'compose', 'gateway', 'gateway.js'), 'utf8'));
        assert.equal(JSON.parse(files['compose/gateway/routes.json']).router, 'http://router-service:8080');
        const executed = Object.entries(compose.services).filter(([, s]) => String((s as Json).image).startsWith('${REGISTRY:-opea}/') && !String((s as Json).image).includes('gmcrouter'));
        assert.deepEqual(Object.keys(compose.services['router-service'].depends_on).sort(), executed.map(([n]) => n).sort());
      });

      it('pins every image: OPEA images at the chain release, others at fixed tags', () => {
        for (const [name, service] of Object.entries(compose.services) as [string, Json][]) {
          assert.ok(!/latest/.test(service.image), `${name}: ${service.image}`);
          assert.match(service.image, /:(\$\{TAG:-1\.1\}|[\w.-]+)$/, name);
        }
      });

      it('lists in .env.example every variable compose.yaml reads, with no secret value', () => {
        const text = files['compose/compose.yaml'];
        const used = new Set([...text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
        const listed = new Map(files['compose/.env.example'].split('\n').filter((l) => /^[A-Za-z_]/.test(l)).map((l) => l.split('=') as [string, string]));
        for (const name of used) assert.ok(listed.has(name), name);
        assert.equal(listed.get('HF_TOKEN'), '');
      });

      it('fails fast without HF_TOKEN where TGI serves a model', () => {
        const tgi = Object.values(compose.services).filter((s) => /text-generation-inference/.test((s as Json).image)) as Json[];
        assert.ok(tgi.length > 0);
        for (const s of tgi) assert.match(s.environment.HF_TOKEN, /^\$\{HF_TOKEN:\?.+\}$/);
      });

      it('gives every service a restart policy, and health checks where the image can probe itself', () => {
        for (const [name, service] of Object.entries(compose.services) as [string, Json][]) {
          assert.equal(service.restart, 'unless-stopped', name);
          const probes = service.healthcheck !== undefined;
          const canProbe = !/text-embeddings-inference|gmcrouter/.test(service.image);
          assert.equal(probes, canProbe, name);
        }
      });
    });
  }

  it('reserves GPUs on nvidia and the Habana runtime on gaudi for model servers', () => {
    const nvidia = composeOf(exportAll(exampleFlow('chatqna.json'), 'nvidia'));
    assert.deepEqual(nvidia.services['llm-tgi'].deploy.resources.reservations.devices, [{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
    assert.equal(nvidia.services.llm.deploy, undefined);
    const gaudi = composeOf(exportAll(exampleFlow('chatqna.json'), 'gaudi'));
    assert.equal(gaudi.services['llm-tgi'].runtime, 'habana');
    assert.match(gaudi.services['llm-tgi'].image, /tgi-gaudi/);
    assert.match(gaudi.services['embedding-tei'].image, /tei-gaudi/);
  });

  it('escapes $ in user strings so compose never interpolates them', () => {
    const flow = structuredClone(exampleFlow('chatqna.json')) as Json[];
    const llm = flow.find((n) => n.type === 'opea-llm') as Json;
    Object.assign(llm, { backend: 'vllm', externalUrl: 'http://llm.example:9000/v1/chat/completions?user=$HOME' });
    const files = exportAll(flow);
    assert.match(files['compose/compose.yaml'], /user=\$\$HOME/);
    const steps = routerGraph(composeOf(files)).spec.nodes.root.steps as Json[];
    assert.deepEqual(steps.find((s) => s.name === 'Llm'), { name: 'Llm', data: '$response', externalService: 'http://llm.example:9000/v1/chat/completions?user=$HOME', serviceUrl: 'http://llm.example:9000/v1/chat/completions?user=$HOME' });
  });

  it('is byte-identical for the same flow', () => {
    assert.deepEqual(exportAll(exampleFlow('chatqna-switch.json')), exportAll(exampleFlow('chatqna-switch.json')));
  });

  describe('gives every retriever and dataprep the TEI of the embedding that feeds it', () => {
    /** The service the variable names, after checking the service starts after it and is a TEI serving `model`. */
    function teiOf(compose: Json, name: string, variable: string, model: string): string {
      const service = compose.services[name];
      const url = service.environment[variable];
      assert.ok(url, `${name} has no ${variable}`);
      const tei = new URL(url).hostname;
      assert.ok(service.depends_on[tei], `${name} starts before ${tei}`);
      assert.match(compose.services[tei].image, /text-embeddings-inference|tei-gaudi/, tei);
      assert.equal(compose.services[tei].command[compose.services[tei].command.indexOf('--model-id') + 1], model, tei);
      return tei;
    }

    it('in a sequence', () => {
      const compose = composeOf(exportAll(exampleFlow('chatqna.json')));
      assert.equal(teiOf(compose, 'retriever', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-tei');
      assert.equal(teiOf(compose, 'dataprep', 'TEI_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-tei');
    });

    it('in switch branches that embed for themselves', () => {
      const compose = composeOf(exportAll(exampleFlow('chatqna-switch.json')));
      assert.equal(teiOf(compose, 'retriever-large', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-large-tei');
      assert.equal(teiOf(compose, 'retriever-small', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-small-en-v1.5'), 'embedding-small-tei');
    });

    it('in switch branches after one embedding (which GMC cannot wire across router nodes)', () => {
      // chatqna-switch with embedding-large in front of the switch and no embedding-small.
      const flow = (structuredClone(exampleFlow('chatqna-switch.json')) as Json[]).filter((n) => n.name !== 'embedding-small');
      const byName = (name: string) => flow.find((n) => n.name === name) as Json;
      byName('POST /v1/chatqna').wires = [[byName('embedding-large').id]];
      byName('embedding-large').wires = [[byName('embedding-model-id').id]];
      const [, , otherwise] = byName('embedding-model-id').wires;
      byName('embedding-model-id').wires = [[byName('retriever-large').id], [byName('retriever-small').id], otherwise];
      const files = exportAll(flow);
      const cr = yaml.load(files['gmc/chatqna-switch.yaml']) as Json;
      const retrievers = (Object.values(cr.spec.nodes) as Json[]).flatMap((node) => node.steps).filter((step: Json) => step.name === 'Retriever' && step.internalService);
      assert.equal(retrievers.length, 2);
      for (const step of retrievers) assert.equal(step.internalService.config.TEI_EMBEDDING_ENDPOINT, undefined, 'GMC resolves no key across router nodes');
      const compose = composeOf(files);
      assert.equal(teiOf(compose, 'retriever-large', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-large-tei');
      assert.equal(teiOf(compose, 'retriever-small', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-large-tei');
    });

    it('in ensemble branches: the branch\'s own embedding, else the one before the fan-out', () => {
      const compose = composeOf(exportAll(exampleFlow('retriever-ensemble.json')));
      assert.equal(teiOf(compose, 'retriever-docs', 'TEI_EMBEDDING_ENDPOINT', 'BAAI/bge-base-en-v1.5'), 'embedding-tei');
      assert.equal(teiOf(compose, 'retriever-multilingual', 'TEI_EMBEDDING_ENDPOINT', 'intfloat/multilingual-e5-base'), 'embedding-multilingual-tei');
    });
  });

  it('runs the model servers at the versions OPEA 1.1, the chain release, ran them, and its README names them', () => {
    assert.equal(CHAIN_TAG, '1.1', 'a new chain release needs its own model-server versions, here and in the catalog');
    for (const platform of ['xeon', 'gaudi', 'nvidia'] as const) {
      const files = exportAll(exampleFlow('chatqna.json'), platform);
      const compose = composeOf(files);
      const { tei, tgi } = OPEA_1_1_MODEL_SERVERS[platform];
      assert.equal(compose.services['embedding-tei'].image, tei, platform);
      assert.equal(compose.services['reranking-tei'].image, tei, platform);
      assert.equal(compose.services['llm-tgi'].image, tgi, platform);
      assert.equal(compose.services.retriever.image, '${REGISTRY:-opea}/retriever-redis:${TAG:-1.1}');
      for (const image of [tei, tgi, '${REGISTRY:-opea}/retriever-redis:${TAG:-1.1}']) assert.ok(files['compose/README.md'].includes(image), `${platform}: README names ${image}`);
    }
  });
});

describe('compose checks', () => {
  it("accept OPEA's ChatQnA compose files", () => {
    assert.deepEqual(checkComposeProject(referenceYaml('compose/chatqna_xeon_compose.yaml')), []);
    assert.deepEqual(checkComposeProject(referenceYaml('compose/chatqna_gaudi_compose_guardrails.yaml')), []);
  });

  it('reject what the schema cannot see: missing dependencies, unhealthy waits, port clashes, undeclared volumes and networks', () => {
    const project = referenceYaml('compose/chatqna_xeon_compose.yaml') as Json;
    project.services.retriever.depends_on = { nowhere: { condition: 'service_started' }, 'tei-reranking-service': { condition: 'service_healthy' } };
    project.services['tei-reranking-service'].ports = ['6006:80'];
    project.services['vllm-service'].volumes = ['models:/data'];
    project.services['vllm-service'].networks = ['backend'];
    const errors = checkComposeProject(project).join('\n');
    assert.match(errors, /retriever.depends_on names 'nowhere'/);
    assert.match(errors, /retriever waits for 'tei-reranking-service' to be healthy, but it has no healthcheck/);
    assert.match(errors, /publishes host port :6006\/tcp, already published by tei-embedding-service/);
    assert.match(errors, /mounts volume 'models', which is not declared/);
    assert.match(errors, /joins network 'backend', which is not declared/);
  });

  it('reject fields the compose specification does not have', () => {
    const project = referenceYaml('compose/chatqna_xeon_compose.yaml') as Json;
    project.services.retriever.replicas_count = 2;
    assert.match(checkComposeProject(project).join('\n'), /^schema: \/services\/retriever/);
  });
});
