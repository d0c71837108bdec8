// @ts-check
// Layers that only point down (issue 12, README "How the code is laid out"). Run by `npm run lint`
// (`npm run lint:deps`); type-only imports count too (tsPreCompilationDeps).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle makes a layer depend on itself: cut it with a smaller module (e.g. a messages module).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'workflow-sandbox',
      severity: 'error',
      comment:
        'Workflow code runs in the deterministic sandbox: it imports only @temporalio/workflow, @temporalio/common, ' +
        'other workflow files, pure domain modules and (as types) activities.',
      from: { path: '^workflows/' },
      to: {
        pathNot: ['^workflows/', '^domain/', '^activities/', '(^|/)node_modules/@temporalio/(workflow|common)/'],
      },
    },
    {
      name: 'workflows-import-activities-as-types',
      severity: 'error',
      comment: 'Workflows reach activities through proxyActivities; they import activity modules for their types only.',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'domain/ is pure logic shared by workflows and activities: it imports nothing of the project outside domain/, ' +
        'and of npm only chinese-days.',
      from: { path: '^domain/' },
      // The one package it uses: the State Council's holiday data (pure data and date arithmetic).
      to: { pathNot: ['^domain/', '(^|/)node_modules/chinese-days/'] },
    },
    {
      name: 'no-upward-import-of-api',
      severity: 'error',
      comment: 'The API is the top layer: nothing below it (db, mail, activities, services, workflows…) imports it.',
      from: { path: '^(db|mail|activities|workflows|domain|services|storage|platform)/|^worker\\.ts$' },
      to: { path: '^api/' },
    },
    {
      name: 'workflows-reached-through-messages',
      severity: 'error',
      comment:
        'Outside workflows/, code talks to workflows through their message modules (*.messages.ts) and the ' +
        'search-attribute keys, never through a workflow module (the worker loads workflows/index.ts by path).',
      from: { path: '^(api|services|activities|db|mail|storage|platform|local-stack|scripts|bench)/|^worker\\.ts$' },
      to: { path: '^workflows/', pathNot: ['\\.messages\\.ts$', '^workflows/search-attributes\\.ts$'] },
    },
    {
      name: 'services-serve-the-top',
      severity: 'error',
      comment:
        'services/ are what the API (and the launcher activity) do in one transaction: the layers below them ' +
        '(db, mail, storage, domain, workflows, platform) never import them.',
      from: { path: '^(db|mail|storage|domain|workflows|platform)/' },
      to: { path: '^services/' },
    },
    {
      name: 'messages-are-contracts',
      severity: 'error',
      comment:
        'A *.messages.ts module is what the API imports of a workflow: it must not pull workflow code in with it ' +
        '(it may import other message modules and the search-attribute keys).',
      from: { path: '^workflows/.+\\.messages\\.ts$' },
      to: { path: '^workflows/', pathNot: ['\\.messages\\.ts$', '^workflows/search-attributes\\.ts$'] },
    },
    {
      name: 'no-dev-code-reachable-from-production',
      severity: 'error',
      comment:
        'Nothing the worker or the API loads, however indirectly, reaches the development starters, the scripts, ' +
        'the benchmark or the tests.',
      from: { path: '^(worker\\.ts|api/server\\.ts)$' },
      to: { path: '^(local-stack|scripts|bench|test)/', reachable: true },
    },
    {
      name: 'no-dev-starters-in-production',
      severity: 'error',
      comment:
        'local-stack/ starts the Temporal dev server, embedded PostgreSQL and maildev for development and tests; ' +
        'production code (the worker, the API and what they load) never imports it.',
      from: { path: '^(worker\\.ts$|api/|activities/|workflows/|db/|mail/|services/|platform/|domain/|storage/)' },
      to: { path: '^local-stack/' },
    },
    {
      name: 'production-never-imports-tests',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // node_modules is not followed, but its edges are kept: the sandbox rule checks which packages workflows use.
    exclude: { path: '^(dist|coverage)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.d.ts'] },
  },
};
