// Writes the engine's settings tables (sceneSpec of every scene and panel) as an ES module the
// page imports: `node scripts/settings.mjs pkg` writes pkg/settings.js. scripts/build.sh runs it
// after every wasm build, so the page's controls, URL parsing and help always come from the
// engine that ships beside them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve(process.argv[2] ?? 'pkg');
const engine = await import(pathToFileURL(join(dir, 'descent.js')).href);
engine.initSync({ module: readFileSync(join(dir, 'descent_bg.wasm')) });

const specs = {};
for (const name of engine.sceneSpecNames()) specs[name] = engine.sceneSpec(name);

const out = `// The engine's settings tables (sceneSpec of each scene and panel), written by
// scripts/settings.mjs at build time: edit them in the Rust tables (src/session/settings.rs).
export const SPECS = ${JSON.stringify(specs)};
`;
writeFileSync(join(dir, 'settings.js'), out);
console.log(`wrote ${join(dir, 'settings.js')} (${Object.keys(specs).join(', ')})`);
