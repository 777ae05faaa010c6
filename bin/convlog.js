#!/usr/bin/env node
// npm and npx put node_modules/.bin first on PATH, so this runs on the Node 24 the
// repository brings; Node 24 runs the TypeScript sources directly.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`convlog: needs Node 24 or newer (this is ${process.version}); run it as "npx convlog" from the repository after "npm ci"`);
  process.exit(2);
}
await import('../src/cli.ts');
