/**
 * The layer map, checked by `npm run lint`. Imports point down only:
 *
 *   domain ← services ← activities ← workflows ← workers
 *                     ↖ client ← servers          ↖ cli (on top of everything)
 *
 * dependency-cruiser rather than an ESLint import plugin: it resolves every import to a file and
 * knows which ones are type-only, and the central rule is exactly that distinction: a workflow may
 * name a service's or an activity's type, never load its code (Temporal's sandbox replays it).
 * Paths are relative to the project root; packages resolve to node_modules/<name>/...
 */

/** What Temporal's workflow sandbox can load: no Node APIs, no I/O, no clock, no randomness. */
const SANDBOX_PACKAGES = ['^node_modules/(zod|@temporalio/workflow|@temporalio/common)/', '^node_modules/@noble/curves/ed25519\\.js$'];
const TYPE_LEVEL = ['type-only', 'type-import'];
const PRODUCTION = '^(domain|services|activities|workflows|workers|client|servers|cli|bin)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'sandbox-domain',
      comment: 'domain/ is shared by every layer and runs in the workflow sandbox: it imports only itself and the sandbox-safe packages.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { pathNot: ['^domain/', ...SANDBOX_PACKAGES] },
    },
    {
      name: 'sandbox-workflows',
      comment: 'workflows/ run in the sandbox and are replayed: domain/, other workflows, type-only services/ and activities/, and the sandbox-safe packages.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { pathNot: ['^(domain|workflows|services|activities)/', ...SANDBOX_PACKAGES] },
    },
    {
      name: 'sandbox-workflows-type-only',
      comment: 'A workflow names a service or activity type (`import type`); their code runs outside the sandbox, through activities.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^(services|activities)/', dependencyTypesNot: TYPE_LEVEL },
    },
    {
      name: 'services-below-activities',
      comment: 'services/ are plain Node code behind small interfaces: they import domain/ and each other, nothing above.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^(activities|workflows|workers|client|servers|cli|bin)/' },
    },
    {
      name: 'services-without-temporal',
      comment: 'Temporal stays out of services/ so they are unit-testable on their own; activities/ translate their errors into Temporal failures.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^node_modules/@temporalio/' },
    },
    {
      name: 'activities-are-adapters',
      comment: 'activities/ call services/ and speak Temporal through @temporalio/activity and @temporalio/common only.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { pathNot: ['^(domain|services|activities)/', '^node_modules/@temporalio/(activity|common)/'] },
    },
    {
      name: 'workflow-code-by-type',
      comment: 'Outside the sandbox, workflow code is named by type only; the worker bundles it by path.',
      severity: 'error',
      from: { path: '^(workers|client|servers|cli|bin)/' },
      to: { path: '^workflows/', dependencyTypesNot: TYPE_LEVEL },
    },
    {
      name: 'workers-below-front-ends',
      comment: 'workers/ are the composition root for everything below them; the CLI and the servers start workers, not the other way round.',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: '^(client|servers|cli|bin)/' },
    },
    {
      name: 'client-below-front-ends',
      comment: 'client/ is Temporal client code only: the servers and the CLI use it; it does not reach into them, the worker or activities.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(activities|workers|servers|cli|bin)/' },
    },
    {
      name: 'servers-below-cli',
      comment: 'servers/ are started by the CLI (and by tests); they talk to tasks through client/.',
      severity: 'error',
      from: { path: '^servers/' },
      to: { path: '^(activities|workers|cli|bin)/' },
    },
    {
      name: 'cli-through-workers',
      comment: 'The CLI runs activities only inside a worker (workers/ wire them).',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^activities/' },
    },
    {
      name: 'production-without-tests',
      comment: 'Tests, benchmarks and scripts sit on top of the code; the code never imports them.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { path: '^(tests|bench|scripts)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle ties layers (or modules of one layer) together so neither can change or load alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a stale path (a moved file) or a missing package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules' },
    exclude: { path: '^(scratch|coverage|dist|\\.agent|\\.tools|workspaces)/' },
    // Type-only imports exist only before compilation; without this they would be invisible.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main'] },
  },
};
