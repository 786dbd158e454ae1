// A small static file server for dist/ on localhost, with the MIME types the site needs
// (application/wasm for streaming compilation) and CORS open to all, as sandboxed embeds need.
// No dependencies.
//
//   node scripts/serve.mjs [dir]          serves dir (default dist) on 127.0.0.1:$PORT (default 8080)
//   import { serve } from './serve.mjs'   serve(dir, port) -> Promise<{ url, port, close() }>; port 0 picks a free one
//                                         serve(dir, port, host, { maxAge }): let the browser cache files for
//                                         maxAge seconds, as GitHub Pages does (default: no-store)

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

export function serve(dir = 'dist', port = 8080, host = '127.0.0.1', { maxAge = 0 } = {}) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      let file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': maxAge > 0 ? `max-age=${maxAge}` : 'no-store',
        // Embeds run in sandboxed iframes (an opaque origin): their module scripts, workers and
        // the wasm are then cross-origin requests. GitHub Pages sends the same header.
        'Access-Control-Allow-Origin': '*',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolvePromise({
        url: `http://${host}:${actual}/`,
        port: actual,
        close: () => new Promise((r) => server.close(r)),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'dist';
  const port = Number(process.env.PORT ?? 8080);
  serve(dir, port).then(
    ({ url }) => console.log(`Descent is served at ${url}  (Ctrl-C stops)`),
    (e) => {
      console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use: run with PORT=8081 (or another)` : e.message);
      process.exit(1);
    },
  );
}
