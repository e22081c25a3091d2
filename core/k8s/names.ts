/**
 * Kubernetes names shared by the deploy module (`core/k8s/deploy.ts`) and the exporters that write
 * for a cluster (the Ansible bundle's `gmc_pipeline` role). One place, so both create the same Secret.
 */

/** GMC's custom resource: group, version, plural (the URL segment) and kind (GenAIInfra GMC, v1alpha3). */
export const GMC_GROUP = 'gmc.opea.io';
export const GMC_VERSION = 'v1alpha3';
export const GMC_API_VERSION = `${GMC_GROUP}/${GMC_VERSION}`;
export const GMC_PLURAL = 'gmconnectors';
export const GMC_KIND = 'GMConnector';

/**
 * The Secret that holds the Hugging Face token in the pipeline's namespace, and its key. Neither
 * upstream GMC nor its templates read it (they take the token from their own ConfigMaps, filled in
 * when GMC is installed); it is there for the pods and tools of the user's own that want it.
 */
export const HF_TOKEN_SECRET = 'hf-token';
export const HF_TOKEN_SECRET_KEY = 'HF_TOKEN';

/** Field manager of every server-side apply we make, so `kubectl get --show-managed-fields` names us. */
export const DEFAULT_FIELD_MANAGER = 'node-red-contrib-opea';

/**
 * Ownership marks set by deploy, read by status and delete: every object deploy applies carries both
 * labels; the namespace and the HF token Secret carry CREATED_FOR only when deploy created them, so
 * delete never removes a namespace or a Secret that was there before.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const PIPELINE_LABEL = 'node-red-contrib-opea/pipeline';
export const CREATED_FOR_ANNOTATION = 'node-red-contrib-opea/created-for';

export function ownershipLabels(pipeline: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: DEFAULT_FIELD_MANAGER, [PIPELINE_LABEL]: pipeline };
}

/** The label selector of every object deploy applied for one pipeline. */
export function pipelineSelector(pipeline: string): string {
  return `${MANAGED_BY_LABEL}=${DEFAULT_FIELD_MANAGER},${PIPELINE_LABEL}=${pipeline}`;
}
/** On the Service that is the pipeline's entry (set by deploy, read by status for the access URL). */
export const ENTRY_ANNOTATION = 'node-red-contrib-opea/entry';

/** The in-cluster URL of a ClusterIP Service, in the form GMC reports as accessUrl. */
export function serviceUrl(service: string, namespace: string, port: number): string {
  return `http://${service}.${namespace}.svc.cluster.local:${port}`;
}
