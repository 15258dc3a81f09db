/**
 * The workflow engine: YAML files → compiled workflows → matching → runs.
 * See docs/writing-workflows.md (ops) and docs/adding-a-step-kind.md (developers).
 */
export { type CatalogOptions, type ReloadInfo, WorkflowCatalog } from './catalog.ts';
export {
  CompiledExpression,
  CompiledTemplate,
  liquid,
  type TemplateScope,
  TemplateSyntaxError,
} from './liquid.ts';
export {
  isWorkflowFileName,
  type LoadResult,
  listWorkflowFiles,
  loadWorkflowDir,
  loadWorkflowFiles,
} from './loader.ts';
export { type CompiledMatch, type Condition, MatchInput, normalizeText } from './match.ts';
export { RunTimeoutError, StepListError, StepTimeoutError } from './run-errors.ts';
export {
  DEFAULT_HANDOFF_REPLY,
  type RunOptions,
  type RunResult,
  runWorkflow,
  type StepProgress,
} from './runner.ts';
export {
  compileRegex,
  expressionSchema,
  forwardIssues,
  issueParams,
  parseNested,
  stepIdSchema,
  templateSchema,
} from './schema-helpers.ts';
export { defaultStepKinds, StepKindRegistry } from './step-kind.ts';
export { type KindLookup, RESERVED_STEP_KEYS, stepsSchema, walkSteps } from './step-schema.ts';
export type {
  CompiledStep,
  HandoffRequest,
  ReplyDraft,
  StepContext,
  StepKind,
  StepList,
  StepRecord,
} from './types.ts';
export { compileWorkflowFile, Workflow } from './workflow.ts';
export { WorkflowSet } from './workflow-set.ts';
