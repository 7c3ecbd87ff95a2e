// Serves this example on its own origin (default http://localhost:5173), as an app would be: the API
// must list that origin in CORS_ORIGINS. No dependencies: node examples/web/serve.mjs [port]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? process.env.EXAMPLE_PORT ?? 5173);
const page = readFileSync(new URL('./index.html', import.meta.url));
createServer((req, res) => {
  if (req.url === '/' || req.url?.startsWith('/?')) return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  res.writeHead(404).end('not found');
}).listen(port, 'localhost', () => console.log(`example app: http://localhost:${port}/ (CORS_ORIGINS=http://localhost:${port})`));
