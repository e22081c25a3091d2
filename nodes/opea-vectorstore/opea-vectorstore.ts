/** opea-vectorstore: the embedded vector store, one folder of named indexes in the Node-RED user directory. */
import os from 'node:os';
import path from 'node:path';
import { IndexDirectory } from '../../core/embedded/index-directory';
import { NodeConfig, Red, RedNode } from '../shared/red';

const FOLDER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

module.exports = function register(RED: Red): void {
  function OpeaVectorStore(this: RedNode & { indexes: IndexDirectory }, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const folder = typeof config.folder === 'string' && config.folder.trim() !== '' ? config.folder.trim() : config.id.replace(/[^A-Za-z0-9_-]/g, '_');
    if (!FOLDER.test(folder)) {
      this.error(`opea-vectorstore ${config.name || config.id}: folder '${folder}' must be letters, digits, _ and - (at most 64); using the node id instead`);
    }
    const safe = FOLDER.test(folder) ? folder : config.id.replace(/[^A-Za-z0-9_-]/g, '_');
    const userDir = RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
    this.indexes = new IndexDirectory(path.join(userDir, 'opea-vectorstore', safe));
  }
  RED.nodes.registerType('opea-vectorstore', OpeaVectorStore);
};
