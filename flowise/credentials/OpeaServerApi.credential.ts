/** Flowise credential for an OPEA server: loaded from dist/credentials/*.credential.js by its `credClass`. */
import { INodeCredential, INodeParams } from '../interface';

export class OpeaServerApi implements INodeCredential {
  label = 'OPEA Server';
  name = 'opeaServerApi';
  version = 1.0;
  description = 'Base URL and (optional) API key of an OPEA microservice, TEI/TGI/vLLM server or OpenAI-compatible endpoint';
  inputs: INodeParams[] = [
    { label: 'Base URL', name: 'opeaBaseUrl', type: 'string', placeholder: 'http://chatqna-backend:8888' },
    { label: 'API Key', name: 'opeaApiKey', type: 'password', optional: true },
  ];
}

export const credClass = OpeaServerApi;
