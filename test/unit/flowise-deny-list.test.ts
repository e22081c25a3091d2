/**
 * Flowise's HTTP deny list for the URLs a chatflow user can set: the Base URL inputs, the OPEA Server
 * credential's URL and the benchmark's Target URL. Inside Flowise the check is Flowise's own
 * checkDenyList (flowise-components src/httpSecurity.ts, exported from its index since 3.0.5); here it
 * is also driven through a stand-in of that module, reached the way the emitted node files reach it.
 * Without it, HTTP_DENY_LIST's entries are refused as Flowise reads them (comma separated addresses,
 * CIDR ranges, host names; httpSecurity.ts getHttpDenyList / isDeniedIP).
 */
import assert from 'node:assert/strict';
import { checkAllowed } from '../../flowise/deny-list';
import { useHost } from '../../flowise/host';
import { ICommonObject, INode, INodeData } from '../../flowise/interface';
import { nodeClass as Benchmark } from '../../flowise/nodes/OpeaBenchmark';
import { nodeClass as ChatModel } from '../../flowise/nodes/OpeaChatModel';
import { nodeClass as Embeddings } from '../../flowise/nodes/OpeaEmbeddings';
import { ProtocolServer } from '../support/protocol-server';

function nodeData(node: INode, inputs: ICommonObject, extra: Partial<INodeData> = {}): INodeData {
  return { id: `${node.name}_0`, label: node.label, name: node.name, type: node.type, icon: node.icon, version: node.version, category: node.category, baseClasses: node.baseClasses, inputs, outputs: {}, ...extra };
}

const noHost = () => useHost(() => {
  throw new Error('no Flowise here');
});

describe('Flowise HTTP deny list', function () {
  this.timeout(20000);
  let server: ProtocolServer;
  const saved = process.env.HTTP_DENY_LIST;
  const denyList = (value: string | undefined) => {
    if (value === undefined) delete process.env.HTTP_DENY_LIST;
    else process.env.HTTP_DENY_LIST = value;
  };

  before(async () => {
    noHost();
    server = await ProtocolServer.start({ chunkBoundary: 'whole' });
  });
  afterEach(() => denyList(saved));
  after(async () => {
    noHost();
    await server.close();
  });

  describe('HTTP_DENY_LIST without Flowise', () => {
    it('refuses a Base URL whose address, range or name is listed, before any request', async () => {
      const node = new Embeddings();
      for (const entry of ['127.0.0.1', '10.0.0.0/8, 127.0.0.0/8', 'localhost', '::ffff:127.0.0.1']) {
        denyList(entry);
        const base = entry === 'localhost' ? server.url.replace('127.0.0.1', 'localhost') : server.url;
        await assert.rejects(node.init(nodeData(node, { backend: 'tei', baseUrl: base }), '', {}), (err: Error) => {
          assert.match(err.message, /^OPEA Embeddings \(opeaEmbeddings_0\): Base URL http:\/\/(127\.0\.0\.1|localhost):\d+ is refused by Flowise's HTTP deny list \(Access to this host is denied by policy\.\)/, entry);
          assert.match(err.message, /HTTP_SECURITY_CHECK=false/);
          return true;
        });
      }
      assert.equal(server.requests.length, 0, 'no request reached the server');
      denyList('10.0.0.0/8, example.invalid');
      const emb = (await node.init(nodeData(node, { backend: 'tei', baseUrl: server.url }), '', {})) as { embedQuery(t: string): Promise<number[]> };
      assert.equal((await emb.embedQuery('allowed')).length, 8, 'an address outside every entry is called');
    });

    it("refuses the OPEA Server credential's URL, naming it", async () => {
      denyList('127.0.0.1');
      useHost((id: string) => {
        if (id === '../../../src/utils') return { getCredentialData: async () => ({ opeaBaseUrl: server.url }) };
        throw new Error(`no ${id}`);
      });
      try {
        const node = new Embeddings();
        await assert.rejects(node.init(nodeData(node, { backend: 'tei' }, { credential: 'cred-1' }), '', {}), /OPEA Embeddings \(opeaEmbeddings_0\): the OPEA Server credential's Base URL http:\/\/127\.0\.0\.1:\d+ is refused by Flowise's HTTP deny list/);
      } finally {
        noHost();
      }
    });

    it('checks every request: a URL listed after init is refused at the next call', async () => {
      denyList(undefined);
      const node = new ChatModel();
      const model = (await node.init(nodeData(node, { backend: 'tgi', baseUrl: server.url, streaming: false }), '', {})) as { invoke(i: string): Promise<{ content: unknown }> };
      assert.equal((await model.invoke('Say hello')).content, 'Hello, wörld 🌍!');
      const before = server.requests.length;
      denyList('127.0.0.0/8');
      await assert.rejects(model.invoke('Say hello'), /OPEA Chat Model \(opeaChatModel_0\): Base URL .* is refused by Flowise's HTTP deny list/);
      assert.equal(server.requests.length, before);
    });

    it("refuses the benchmark's Target URL", async () => {
      denyList('127.0.0.1');
      const node = new Benchmark();
      const before = server.requests.length;
      await assert.rejects(node.run(nodeData(node, { targetUrl: server.url, targetKind: 'openai', modelName: 'm', requests: 2, concurrency: 1 }), ''), /^Error: OPEA Benchmark \(opeaBenchmark_0\): Target URL http:\/\/127\.0\.0\.1:\d+ is refused by Flowise's HTTP deny list/);
      assert.equal(server.requests.length, before);
    });

    it('says which entry is malformed, and tells an unknown host from a refusal', async () => {
      denyList('10.0.0.0/99');
      await assert.rejects(checkAllowed(server.url, 'X: Base URL'), /the HTTP_DENY_LIST entry '10\.0\.0\.0\/99' is not an address, a range \(CIDR\) or a host name/);
      denyList('10.0.0.0/8');
      await assert.rejects(checkAllowed('http://no-such-host.invalid:1', 'X: Base URL'), /^Error: X: Base URL http:\/\/no-such-host\.invalid:1: host not found — check the host name$/);
      await assert.rejects(checkAllowed('http://', 'X: Base URL'), /X: Base URL 'http:\/\/' is not a URL/);
    });
  });

  describe("Flowise's own checkDenyList", () => {
    it('is the check inside Flowise, so its default list and HTTP_SECURITY_CHECK apply as to its own nodes', async () => {
      denyList(undefined);
      const asked: string[] = [];
      useHost((id: string) => {
        if (id !== '../../../src/httpSecurity') throw new Error(`no ${id}`);
        return {
          // What httpSecurity.ts isDeniedIP throws for a listed address.
          checkDenyList: async (url: string) => {
            asked.push(url);
            if (new URL(url).hostname === '127.0.0.1') throw new Error('Access to this host is denied by policy.');
          },
        };
      });
      try {
        const node = new ChatModel();
        await assert.rejects(node.init(nodeData(node, { backend: 'tgi', baseUrl: server.url }), '', {}), /Base URL http:\/\/127\.0\.0\.1:\d+ is refused by Flowise's HTTP deny list \(Access to this host is denied by policy\.\)/);
        assert.deepEqual(asked, [server.url]);
      } finally {
        noHost();
      }
    });
  });
});
