/** opea-dataprep: documents in; chunked, embedded and written to the vector store; an ingest report out. */
import { DataprepConfig, ingestInput, runDataprep } from '../../core/stages/dataprep';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, indexesOf, readSettings } from '../shared/service-node';

module.exports = function register(RED: Red): void {
  function OpeaDataprep(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-dataprep', config);
    const p = settings.params;
    const dataprep: DataprepConfig = {
      backend: settings.backend,
      chunkSize: p.chunkSize as number,
      chunkOverlap: p.chunkOverlap as number,
      indexName: p.indexName as string,
      embedder: { backend: p.embedBackend as string, model: (p.embedModel as string) || undefined, dimensions: p.dimensions as number, batchSize: p.embedBatchSize as number },
    };
    if (dataprep.chunkOverlap >= dataprep.chunkSize) problems.push(`chunkOverlap (${dataprep.chunkOverlap}) must be smaller than chunkSize (${dataprep.chunkSize})`);
    handleInput(this, 'dataprep', problems, async (msg, signal) => {
      const req = msg.req as { files?: unknown } | undefined;
      const input = ingestInput(msg.payload, req?.files);
      const endpoint = endpointOf(RED, config.server);
      const deps = settings.backend === 'memory' ? { indexes: indexesOf(RED, config.store), embedderEndpoint: endpoint } : { endpoint };
      const report = await runDataprep(dataprep, deps, input, signal);
      msg.payload = report;
      if (report.status !== 200) {
        // The report stays on msg.payload, so a catch node sees per file what went in.
        throw new Error(`${report.message} — msg.payload.results has the service's answer per file`);
      }
      if ('chunks' in report) return { status: `${report.chunks} chunks → ${dataprep.indexName}`, metrics: { chunks: report.chunks } };
      const files = report.results.filter((r) => r.file !== undefined).length;
      const links = report.results.reduce((n, r) => n + (r.links?.length ?? 0), 0);
      const what = [files ? `${files} file${files === 1 ? '' : 's'}` : '', links ? `${links} link${links === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
      return { status: `ingested ${what}`, metrics: { requests: report.requests } };
    });
  }
  RED.nodes.registerType('opea-dataprep', OpeaDataprep);
};
