export * from './model';
export * from './problems';
export * from './catalog';
export * from './node-types';
export { importNodeRedFlow, ImportOptions } from './flow-json';
export { planPipeline, Plan, Stage } from './plan';
export { loadPipeline, Pipeline } from './pipeline';
export { toNodeRedFlow, SourceFormat } from './importers';
