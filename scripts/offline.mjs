// Writes the offline copy's list into the site's service worker: `node scripts/offline.mjs dist`
// fills the BUILD line of dist/sw.js (copied from www/sw.js) with the files to keep offline and a
// version, a hash of their paths and contents (and of the worker itself), so that every change
// to the site gives a new sw.js, which the browser installs on the next online visit.
// scripts/build.sh runs it last, once dist/ is complete.
//
// Kept offline: every file of dist/ except those below, which no scene page loads.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const LEFT_OUT = [
  'sw.js', // the worker itself (the browser keeps it)
  'package.json', // the npm package's manifest
  'bench.html', // the benchmark page and its peers, TensorFlow.js and jax-js (several MB)
  'js/bench/',
  'vendor/tfjs/',
  'vendor/jax-js/',
];
const LINE = /^const BUILD = \{ version: 'unbuilt', files: \[\] \};.*$/m;

const dir = resolve(process.argv[2] ?? 'dist');

/** Every file under `d`, as a path relative to `dir` with '/' separators. */
function walk(d) {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = join(d, e.name);
    if (e.isDirectory()) return walk(p);
    return e.isFile() ? [relative(dir, p).split(sep).join('/')] : [];
  });
}

const files = walk(dir)
  .filter((f) => !LEFT_OUT.some((x) => (x.endsWith('/') ? f.startsWith(x) : f === x)))
  .sort();

const worker = readFileSync(join(dir, 'sw.js'), 'utf8');
if (!LINE.test(worker)) throw new Error(`${join(dir, 'sw.js')}: no unbuilt BUILD line to fill in`);

const hash = createHash('sha256');
hash.update(worker);
let bytes = 0;
for (const f of files) {
  const body = readFileSync(join(dir, f));
  bytes += body.length;
  hash.update(`\0${f}\0${body.length}\0`);
  hash.update(body);
}
const version = hash.digest('hex').slice(0, 16);

const build = `const BUILD = ${JSON.stringify({ version, files }, null, 2)}; // written by scripts/offline.mjs`;
writeFileSync(join(dir, 'sw.js'), worker.replace(LINE, () => build));
console.log(`offline copy ${version}: ${files.length} files, ${(bytes / 1048576).toFixed(1)} MB`);
