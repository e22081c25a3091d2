/** A flow of one pipeline wired through a chain of junctions, for the tests of long chains. */
export type RawNode = Record<string, unknown> & { id: string; type: string };

/** opea-embedding -> `length` junctions in a row -> opea-retriever, on one tab. */
export function junctionChain(length: number): RawNode[] {
  const flow: RawNode[] = [
    { id: 't', type: 'tab', label: 'chain' },
    { id: 'srv', type: 'opea-server', baseUrl: 'http://tei:80' },
    { id: 'emb', type: 'opea-embedding', z: 't', name: 'emb', backend: 'tei', model: 'BAAI/bge-base-en-v1.5', server: 'srv', wires: [['j0']] },
  ];
  for (let i = 0; i < length; i++) flow.push({ id: `j${i}`, type: 'junction', z: 't', wires: [[i === length - 1 ? 'ret' : `j${i + 1}`]] });
  flow.push({ id: 'ret', type: 'opea-retriever', z: 't', name: 'ret', backend: 'redis', server: 'srv', wires: [[]] });
  return flow;
}
