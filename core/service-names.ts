/** Kubernetes base names for components: from the node name, else the kind; unique per pipeline. */
import { Component } from './model';
import { baseNameProblem, toK8sName } from './names';
import { oneLine, ProblemList } from './problems';

export function serviceBaseNames(components: Component[], problems: ProblemList): Map<string, string> {
  const names = new Map<string, string>();
  const owner = new Map<string, Component>();
  const unnamed: Component[] = [];
  for (const c of components) {
    if (c.name === '') {
      unnamed.push(c);
      continue;
    }
    const problem = baseNameProblem(c.name);
    if (problem) {
      problems.add(c.id, c.label, problem, 'rename the node (letters, digits and dashes, starting with a letter)');
      continue;
    }
    const base = toK8sName(c.name) as string;
    const other = owner.get(base);
    if (other) {
      problems.add(c.id, c.label, `its Kubernetes name '${base}' is already taken by ${oneLine(other.label, 40)} (${other.id})`, 'give the two nodes different names');
      continue;
    }
    owner.set(base, c);
    names.set(c.id, base);
  }
  const kindCount = new Map<string, number>();
  for (const c of unnamed) kindCount.set(c.kind, (kindCount.get(c.kind) ?? 0) + 1);
  for (const c of unnamed) {
    let base = c.kind as string;
    if ((kindCount.get(c.kind) ?? 0) > 1 || owner.has(base)) {
      base = `${c.kind}-${toK8sName(`x${c.id}`)?.slice(1, 9) || 'node'}`.replace(/-+$/, '');
    }
    if (owner.has(base)) {
      problems.add(c.id, c.label, `its generated Kubernetes name '${base}' is taken`, 'give the node a name');
      continue;
    }
    owner.set(base, c);
    names.set(c.id, base);
  }
  return names;
}
