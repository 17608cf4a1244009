import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Handler } from 'hono';

// GET /docs: a reference page for the OpenAPI document that works without internet access (the
// engine is self-hosted, often air-gapped), so no CDN and no UI framework: one HTML answer with its
// own stylesheet and script inlined from docs-page/, allowed by hash in a strict CSP.

const asset = (name: string) => readFileSync(new URL(`./docs-page/${name}`, import.meta.url), 'utf8');
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function docsPage(specUrl: string): Handler {
  const style = asset('docs.css');
  const script = asset('docs.js');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeline API</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body data-spec="${escapeAttr(specUrl)}">
<noscript>This page needs JavaScript. The API is described in <a href="${escapeAttr(specUrl)}">${escapeAttr(specUrl)}</a>.</noscript>
<script>${script}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return (c) => c.html(html, 200, { 'content-security-policy': csp, 'x-content-type-options': 'nosniff' });
}
