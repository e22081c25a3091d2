/** opea-prompt: a prompt library, named prompts with a version and a description, carried in the flow JSON. */
import { findPrompt, LibraryPrompt, libraryContents, readLibrary, templatesOf } from '../../core/prompts/library';
import { PromptTemplates } from '../../core/prompts/apply';
import { PROMPTS } from '../../core/prompts/settings';
import { ContractError } from '../../core/contract/documents';
import { NodeConfig, Red, RedNode } from '../shared/red';

export interface PromptLibraryNode {
  /** The templates of a prompt, with its version: the named version, else the highest. */
  pick(name: string, version?: string): { prompt: LibraryPrompt; templates: PromptTemplates };
}

module.exports = function register(RED: Red): void {
  function OpeaPrompt(this: RedNode & PromptLibraryNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const label = `opea-prompt ${config.name || 'library'} (${config.id})`;
    const { prompts, problems } = readLibrary(config.prompts, PROMPTS);
    if (problems.length > 0) this.error(`${label}: ${problems.join('; ')} — fix the prompts and deploy again`);
    this.pick = (name, version = '') => {
      if (problems.length > 0) throw new ContractError(`its prompt library ${label} has errors: ${problems[0]}`, 'fix the prompts and deploy again');
      const prompt = findPrompt(prompts, name, version);
      if (!prompt) {
        throw new ContractError(`the prompt library ${label} has no prompt ${name}${version ? ` version ${version}` : ''} (it has ${libraryContents(prompts)})`, 'name one of its prompts, or add it to the library');
      }
      return { prompt, templates: templatesOf(prompt, PROMPTS) };
    };
  }
  RED.nodes.registerType('opea-prompt', OpeaPrompt);
};
