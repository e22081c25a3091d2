/** Flows for the Helm chart tests beyond the examples. */
import { exampleFlow } from './reference';

type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * flows/retriever-ensemble.json (one embedding fanned out to two retrievers, gathered by a join)
 * followed by flows/chatqna-switch.json's LLM switch (`model-id`: llm-intel or llm-llama) before its
 * answer: an Ensemble and a Switch in one router graph (the exporters take one level of routing per
 * switch branch, so the two come one after the other).
 */
export function switchAndEnsembleFlow(): Node[] {
  const flow = structuredClone(exampleFlow('retriever-ensemble.json')) as Node[];
  const switchFlow = exampleFlow('chatqna-switch.json') as Node[];
  const tab = (flow.find((n) => n.type === 'http in') as Node).z;
  const join = flow.find((n) => n.type === 'join') as Node;
  const answer = flow.find((n) => n.type === 'http response' && n.name) as Node;
  const llms: Node[] = switchFlow.filter((n) => n.type === 'opea-llm').map((n) => ({ ...structuredClone(n), z: tab, y: n.y + 300, wires: [[answer.id]] }));
  const modelSwitch = switchFlow.find((n) => n.type === 'switch' && n.name === 'model-id') as Node;
  // Its rules that choose an LLM (copied with their ids), without an "otherwise" that leads elsewhere in that flow.
  const outputs = (modelSwitch.wires as string[][]).map((targets, i) => ({ rule: modelSwitch.rules[i], targets })).filter((o) => llms.some((l) => o.targets.includes(l.id)));
  const choose: Node = { ...structuredClone(modelSwitch), z: tab, y: modelSwitch.y + 300, rules: outputs.map((o) => o.rule), outputs: outputs.length, wires: outputs.map((o) => o.targets) };
  join.wires = [[choose.id]];
  return [...flow, choose, ...llms];
}
