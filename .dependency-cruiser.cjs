// The layers of src/ (lowest first; a module imports only from its own layer or below), checked by
// `npm run lint`:
//
//   errors, domain/, io/  →  db/, whatsapp/  →  reports/, ingest/, assistant/, privacy/, events/
//     →  server/  →  demo/  →  cli/  →  bin/
//
// Shared pieces move down, never sideways or up. See ARCHITECTURE in the README.
const services = '(reports|ingest|assistant|privacy|events)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-the-bottom',
      comment: 'domain/ is plain data and pure functions: it imports nothing else from src/ but errors.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain/|errors\\.ts$)' },
    },
    {
      name: 'errors-import-nothing',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'io-is-low',
      comment: 'io/ (stream writers) knows only domain/ and errors.',
      severity: 'error',
      from: { path: '^src/io/' },
      to: { path: '^src/', pathNot: '^src/(io/|domain/|errors\\.ts$)' },
    },
    {
      name: 'db-knows-only-domain',
      comment:
        'db/ (query layer, dialect, repositories) imports only domain/, errors and its generated Prisma clients.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/', pathNot: '^src/(db/|domain/|generated/|errors\\.ts$)' },
    },
    {
      name: 'whatsapp-is-low',
      comment: 'whatsapp/ (payload parser, Graph client) imports only domain/, io/ and errors.',
      severity: 'error',
      from: { path: '^src/whatsapp/' },
      to: { path: '^src/', pathNot: '^src/(whatsapp/|domain/|io/|errors\\.ts$)' },
    },
    {
      name: 'services-never-up',
      comment: 'reports/, ingest/, assistant/, privacy/ and events/ never import the server, the demo or the CLI.',
      severity: 'error',
      from: { path: `^src/${services}/` },
      to: { path: '^src/(server|demo|cli)/' },
    },
    {
      name: 'services-never-sideways',
      comment: 'Services do not import each other: what two of them share moves down (domain/, io/, db/).',
      severity: 'error',
      from: { path: `^src/${services}/` },
      to: { path: `^src/${services}/`, pathNot: '^src/$1/' },
    },
    {
      name: 'server-below-cli',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/(cli|demo)/' },
    },
    {
      name: 'demo-below-cli',
      severity: 'error',
      from: { path: '^src/demo/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'prisma-clients-only-in-db',
      comment: 'Only db/ builds or touches a Prisma client.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(db|generated)/' },
      to: { path: '^src/generated/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { pathNot: '^src/generated/' } },
    },
    {
      name: 'no-dev-dependencies-in-src',
      comment: 'The shipped code must not need a devDependency.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^src/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
