/**
 * The small part of Flowise's component interface (flowise-components `src/Interface.ts`) these
 * adapters implement, kept here so that installing this package never needs flowise-components.
 * Flowise's server only reads these fields of what a node file exports; the shapes follow Flowise 3.x.
 */

/** Flowise's `NodeParamsType`: the widget types an input may have. Any other `type` names a base class to connect. */
export const NODE_PARAM_TYPES = [
  'asyncOptions', 'asyncMultiOptions', 'options', 'multiOptions', 'datagrid', 'string', 'number', 'boolean',
  'password', 'json', 'code', 'date', 'file', 'folder', 'tabs',
] as const;
export type NodeParamsType = (typeof NODE_PARAM_TYPES)[number];

export interface ICommonObject {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export interface INodeOptionsValue {
  label: string;
  name: string;
  description?: string;
}

export interface INodeOutputsValue {
  label: string;
  name: string;
  baseClasses?: string[];
  description?: string;
}

export interface INodeParams {
  label: string;
  name: string;
  /** A NodeParamsType, 'credential' for the credential slot, or the base class of a node that connects here. */
  type: NodeParamsType | string;
  default?: string | number | boolean | ICommonObject;
  description?: string;
  options?: INodeOptionsValue[];
  credentialNames?: string[];
  optional?: boolean;
  step?: number;
  rows?: number;
  list?: boolean;
  placeholder?: string;
  additionalParams?: boolean;
}

export interface INodeProperties {
  label: string;
  name: string;
  type: string;
  icon: string;
  version: number;
  category: string;
  baseClasses: string[];
  description?: string;
  filePath?: string;
  badge?: string;
  hideOutput?: boolean;
  documentation?: string;
}

export interface INodeData extends INodeProperties {
  id: string;
  inputs?: ICommonObject;
  outputs?: ICommonObject;
  /** The id of the chosen credential (Flowise decrypts it with getCredentialData). */
  credential?: string;
  instance?: unknown;
}

export interface INode extends INodeProperties {
  credential?: INodeParams;
  inputs?: INodeParams[];
  outputs?: INodeOutputsValue[];
  init?(nodeData: INodeData, input: string, options?: ICommonObject): Promise<unknown>;
  run?(nodeData: INodeData, input: string, options?: ICommonObject): Promise<string | ICommonObject>;
}

export interface INodeCredential {
  label: string;
  name: string;
  version: number;
  description?: string;
  inputs?: INodeParams[];
}
