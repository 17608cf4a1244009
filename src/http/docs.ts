import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { staticFile } from './static-files.ts';
import { htmlAttr } from './html-attr.ts';

// GET /docs: Swagger UI over the OpenAPI document. The engine is self-hosted, often air-gapped,
// so the renderer is the swagger-ui-dist package served from this origin (no CDN), and the page
// runs under a strict CSP: scripts and styles only from this origin, plus the few lines that
// start Swagger UI, allowed by their hash; no 'unsafe-inline', no 'unsafe-eval'. Swagger UI
// renders within that policy: its own styles are the stylesheet and its icons data: images.

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The two files of the package the page loads, and nothing else of node_modules. */
const ASSETS: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

// No validator badge (it would call swagger.io), and no ?url= or ?configUrl= overrides: the page
// shows this engine's document only.
const START = `window.ui = SwaggerUIBundle({
  url: document.body.dataset.spec,
  dom_id: '#docs',
  deepLinking: true,
  filter: true,
  displayRequestDuration: true,
  validatorUrl: null,
  queryConfigEnabled: false,
});`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export function docsPage(specUrl: string): Hono {
  const spec = htmlAttr(specUrl);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeline API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body data-spec="${spec}">
<noscript>This page needs JavaScript. The API is described in <a href="${spec}">${spec}</a>.</noscript>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>${START}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(START)} 'self'`,
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  const docs = new Hono();
  docs.get('/', (c) => c.html(html, 200, { 'content-security-policy': csp, 'x-content-type-options': 'nosniff' }));
  // 1.9 MB that change only with the package.
  for (const [name, type] of Object.entries(ASSETS)) docs.get(`/${name}`, ...staticFile(join(SWAGGER_UI, name), type));
  return docs;
}
