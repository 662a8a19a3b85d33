// The layering rules of coreforge, checked by dependency-cruiser on every
// `npm test` (test/layering.test.ts). Type-only imports count: an arrow is an
// arrow, even when the compiler erases it.
//
//   common/        neutral: used by the daemon, the client and console-conf; imports none of them
//   console-conf/  runs on the device, where daemon/ is not installed
//   client/        talks to the daemon through the API only: of daemon/ it sees the API types
//   daemon/api/    the HTTP layer; the libraries under it never import it
//   express        the daemon's API and the store server's HTTP service, nowhere else

/** The daemon's wiring, which builds the API from the libraries: the only daemon modules outside daemon/api that may import it. */
const wiring = '^daemon/(daemon|main|run)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'express-outside-http-layers',
      comment: 'express belongs to the HTTP layers: daemon/api and the store server (daemon/store/server); libraries return values, the HTTP layer turns them into responses',
      severity: 'error',
      from: { pathNot: '^(daemon/api|daemon/store/server)/' },
      to: { path: '(^|/)node_modules/(express|@types/express)/' },
    },
    {
      name: 'console-conf-imports-daemon',
      comment: 'console-conf runs on the device, where daemon/ and client/ are not installed; move what both need to common/',
      severity: 'error',
      from: { path: '^console-conf/' },
      to: { path: '^(daemon|client)/' },
    },
    {
      name: 'client-imports-daemon-internals',
      comment: 'the client talks to the daemon over the API: of daemon/ it may import only the API types (daemon/api/types*.ts); move anything else it needs to common/',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^daemon/', pathNot: '^daemon/api/types[^/]*\\.ts$' },
    },
    {
      name: 'library-imports-api',
      comment: 'daemon libraries sit under the API: only daemon/api itself and the wiring (daemon.ts, main.ts, run.ts) import daemon/api; move a shared type down into the library and re-export it from the API types',
      severity: 'error',
      from: { path: '^daemon/', pathNot: ['^daemon/api/', wiring] },
      to: { path: '^daemon/api/' },
    },
    {
      name: 'common-imports-a-component',
      comment: 'common/ is shared by the daemon, the client and console-conf, so it imports none of them',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: '^(daemon|client|console-conf)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
