/**
 * Modules of the Flowise host (@langchain/core, flowise-components' own utils), loaded lazily at run
 * time. Each emitted node file hands in its own `require`, so these resolve from where the file sits
 * inside Flowise's components package (dist/nodes/opea/<Name>/), exactly as Flowise's own nodes
 * resolve them; nothing of Flowise is a dependency of this package. When a module is absent (tests on
 * plain Node), the callers fall back to objects of our own with the same methods.
 */
type Loader = (id: string) => unknown;

let hostRequire: Loader | undefined;

/** Called by every emitted node file with its own `require`. */
export function useHost(loader: Loader): void {
  hostRequire = loader;
}

/** The host's module, or undefined when it is not there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function hostModule(id: string): any {
  if (!hostRequire) return undefined;
  try {
    return hostRequire(id);
  } catch {
    return undefined;
  }
}

/** A class exported by a host module, or the fallback when the module or class is absent. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function hostClass(id: string, name: string, fallback: new (...args: any[]) => object): { base: any; fromHost: boolean } {
  const found = hostModule(id)?.[name];
  return typeof found === 'function' ? { base: found, fromHost: true } : { base: fallback, fromHost: false };
}
