/** Kubernetes-safe names derived from what users type. */

/** Longest base name we accept: leaves room for the longest suffix we append within 63 characters. */
export const MAX_BASE_NAME = 48;

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** An RFC 1035 label (what a Kubernetes Service name must be), or null when the text has none. */
export function toK8sName(text: string): string | null {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return DNS_LABEL.test(slug) ? slug : null;
}

export function isDnsLabel(text: string, max = 63): boolean {
  return text.length <= max && DNS_LABEL.test(text);
}

/** Why `text` cannot be a base name, or null when it can. */
export function baseNameProblem(text: string): string | null {
  const name = toK8sName(text);
  if (name === null) {
    return 'its name has no Kubernetes form: it needs a letter first and letters or digits (a-z, 0-9, -)';
  }
  if (name.length > MAX_BASE_NAME) {
    return `its name becomes a ${name.length}-character Kubernetes name; at most ${MAX_BASE_NAME} fit`;
  }
  return null;
}
