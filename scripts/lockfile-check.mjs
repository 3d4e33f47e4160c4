// npm test: package-lock.json must let `npm ci` install on any platform. npm leaves out of the
// lockfile the optional packages of other platforms when it resolves on one (esbuild's and
// rollup's binaries, say), and `npm ci` on those platforms then refuses the lockfile. Every
// optional dependency a locked package declares must be locked too, wherever npm would put it.
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const locked = lock.packages ?? {};

/** Where npm looks for `name` from the package at `path`: its own node_modules, then up. */
function resolves(path, name) {
  let dir = path;
  for (;;) {
    if (locked[`${dir === '' ? '' : `${dir}/`}node_modules/${name}`]) return true;
    if (dir === '') return false;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

const missing = [];
for (const [path, entry] of Object.entries(locked)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(path, name))
      missing.push(`${name} (optional dependency of ${path || 'the root'})`);
  }
}
if (missing.length > 0) {
  console.error(
    `package-lock.json lacks ${missing.length} optional package(s) npm ci needs on some platform:\n  ` +
      missing.join('\n  ') +
      '\nRegenerate it completely: rm -rf node_modules package-lock.json && npm install',
  );
  process.exit(1);
}
console.log(
  `package-lock.json: every optional dependency of ${Object.keys(locked).length} locked packages is locked`,
);
