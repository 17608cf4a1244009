// The /docs page: renders the OpenAPI document at <body data-spec> and sends requests from it.
// Plain DOM, no dependencies, and no markup built from strings: every text, whether from the
// document or from an answer, goes in through textContent.
(() => {
  'use strict';

  const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
  const TOKEN_KEY = 'lifeline-docs-token';
  let spec;

  /** el('div.a.b', {attr: v}, child, ...): children are nodes or strings (text). */
  function el(tag, attrs, ...children) {
    const [name, ...classes] = tag.split('.');
    const node = document.createElement(name);
    if (classes.length) node.className = classes.join(' ');
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k in node && k !== 'list') node[k] = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }

  /** Text with `code` spans and blank-line paragraphs, the only markup the document uses. */
  function prose(text) {
    if (!text) return null;
    return el(
      'div.prose',
      null,
      text.split(/\n\s*\n/).map((para) => el('p', null, para.split('`').map((part, i) => (i % 2 ? el('code', null, part) : part)))),
    );
  }

  const refName = (ref) => decodeURIComponent(ref.split('/').pop().replace(/~1/g, '/').replace(/~0/g, '~'));

  function resolve(obj) {
    let seen = 0;
    while (obj && obj.$ref && seen++ < 20) {
      const path = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      obj = path.reduce((o, k) => (o ? o[k] : undefined), spec);
    }
    return obj || {};
  }

  // ---- schemas ------------------------------------------------------------------------------

  function typeLabel(s) {
    if (s.$ref) return refName(s.$ref);
    const alts = s.anyOf || s.oneOf;
    if (alts) return alts.map(typeLabel).join(' | ');
    if ('const' in s) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    let t = Array.isArray(s.type) ? s.type.join(' | ') : s.type || 'any';
    if (t === 'array' && s.items) t = `array of ${typeLabel(s.items)}`;
    if (s.format) t += ` (${s.format})`;
    return t;
  }

  function constraints(s) {
    const out = [];
    const range = (lo, hi, unit) => {
      if (lo !== undefined && hi !== undefined) out.push(`${lo}–${hi}${unit}`);
      else if (lo !== undefined) out.push(`≥ ${lo}${unit}`);
      else if (hi !== undefined) out.push(`≤ ${hi}${unit}`);
    };
    range(s.minimum, s.maximum, '');
    range(s.minLength, s.maxLength, ' chars');
    range(s.minItems, s.maxItems, ' items');
    if (s.pattern) out.push(`pattern ${s.pattern}`);
    if (s.propertyNames && s.propertyNames.pattern) out.push(`keys match ${s.propertyNames.pattern}`);
    if ('default' in s) out.push(`default ${JSON.stringify(s.default)}`);
    return out;
  }

  /** What of a field's schema is worth unfolding: an object, an array of objects, alternatives. */
  function nestedOf(schema) {
    const s = resolve(schema);
    const alts = s.anyOf || s.oneOf;
    if (s.properties || (alts && alts.some((a) => resolve(a).properties))) return schema;
    if (s.items && resolve(s.items).properties) return s.items;
    return null;
  }

  /** A schema as nested lists of fields; `$ref`s are expanded once per branch. */
  function schemaView(schema, seen = new Set()) {
    const ref = schema.$ref;
    if (ref && seen.has(ref)) return el('span.type', null, refName(ref));
    const s = resolve(schema);
    const below = ref ? new Set([...seen, ref]) : seen;
    const box = el('div.schema');
    if (s.description) box.append(prose(s.description));
    const alts = s.anyOf || s.oneOf;
    if (alts && alts.some((a) => resolve(a).type === 'object')) {
      box.append(el('div.note', null, s.oneOf ? 'Exactly one of:' : 'One of:'));
      box.append(el('ol.alts', null, alts.map((a) => el('li', null, schemaView(a, below)))));
      return box;
    }
    if (s.properties) {
      const required = new Set(s.required || []);
      box.append(
        el(
          'ul.fields',
          null,
          Object.entries(s.properties).map(([name, p]) => {
            const field = resolve(p);
            const nested = nestedOf(p);
            return el(
              'li',
              null,
              el('code.field', null, name),
              ' ',
              el('span.type', null, typeLabel(p)),
              required.has(name) ? el('span.req', null, ' required') : null,
              constraints(field).map((c) => el('span.constraint', null, c)),
              nested ? schemaView(nested, below) : prose(field.description),
            );
          }),
        ),
      );
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        box.append(el('div.note', null, 'Other fields: ', el('span.type', null, typeLabel(s.additionalProperties))));
      }
      if (s.additionalProperties === false) box.append(el('div.note', null, 'No other fields are accepted.'));
      return box;
    }
    if (s.items && resolve(s.items).properties) {
      box.append(el('div.note', null, 'An array of:'), schemaView(s.items, below));
      return box;
    }
    box.append(el('span.type', null, typeLabel(s)), constraints(s).map((c) => el('span.constraint', null, c)));
    return box;
  }

  /** A body that satisfies the schema's required fields, to start from in the try-it form. */
  function example(schema, depth = 0) {
    const s = resolve(schema);
    if (depth > 8) return null;
    if (s.examples && s.examples.length) return s.examples[0];
    if ('const' in s) return s.const;
    if (s.enum) return s.enum[0];
    const alts = s.anyOf || s.oneOf;
    if (alts) return example(alts.find((a) => resolve(a).type !== 'null') || alts[0], depth + 1);
    if ('default' in s) return s.default;
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    switch (type) {
      case 'object': {
        const out = {};
        for (const name of s.required || []) out[name] = example(s.properties[name], depth + 1);
        return out;
      }
      case 'array':
        return s.minItems ? [example(s.items || {}, depth + 1)] : [];
      case 'integer':
      case 'number':
        return s.minimum ?? 0;
      case 'boolean':
        return false;
      case 'string':
        if (s.format === 'date-time') return new Date().toISOString();
        if (s.format === 'uuid') return '00000000-0000-0000-0000-000000000000';
        if (s.format === 'email') return 'ops@example.com';
        return 'example';
      default:
        return null;
    }
  }

  // ---- operations ---------------------------------------------------------------------------

  function securityText(security) {
    if (!security || security.length === 0) return 'No auth.';
    return security
      .map((req) =>
        Object.entries(req)
          .map(([scheme, scopes]) => (scopes.length ? `${scheme} (${scopes.join(', ')})` : scheme))
          .join(' + '),
      )
      .join(' or ');
  }

  function paramRow(p) {
    const s = p.schema || {};
    return el(
      'tr',
      null,
      el('td', null, el('code.field', null, p.name), p.required ? el('span.req', null, ' required') : null),
      el('td', null, p.in),
      el('td', null, el('span.type', null, typeLabel(s)), constraints(s).map((c) => el('span.constraint', null, c))),
      el('td', null, prose(p.description)),
    );
  }

  function tryIt(method, path, op, params) {
    const inputs = params.map((p) => {
      const s = p.schema || {};
      const input = s.enum
        ? el('select', { name: p.name }, el('option', { value: '' }, ''), s.enum.map((v) => el('option', { value: v }, v)))
        : el('input', { name: p.name, placeholder: 'default' in s ? String(s.default) : '', required: p.required });
      return { p, input, row: el('label.input', null, el('span', null, `${p.name} (${p.in})`), input) };
    });
    const media = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    const body = media
      ? el('textarea', { rows: 8, value: JSON.stringify(example(media.schema), null, 2) })
      : null;
    if (body) body.spellcheck = false;
    const out = el('div.result');
    const send = async (event) => {
      event.preventDefault();
      let url = path;
      const search = new URLSearchParams();
      const headers = {};
      for (const { p, input } of inputs) {
        const value = input.value.trim();
        if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(value));
        else if (value === '') continue;
        else if (p.in === 'query') search.set(p.name, value);
        else if (p.in === 'header') headers[p.name] = value;
      }
      const qs = search.toString();
      if (qs) url += `?${qs}`;
      const token = document.getElementById('token').value.trim();
      if (token) headers.authorization = `Bearer ${token}`;
      const init = { method: method.toUpperCase(), headers };
      if (body && body.value.trim() !== '') {
        headers['content-type'] = 'application/json';
        init.body = body.value;
      }
      out.replaceChildren(el('div.note', null, `${init.method} ${url} …`));
      const started = performance.now();
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        let shown = text;
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // not JSON (metrics, an empty 204): shown as it came
        }
        out.replaceChildren(
          el('div.status.s' + String(res.status)[0], null, `${init.method} ${url} → ${res.status} ${res.statusText} (${Math.round(performance.now() - started)} ms)`),
          el('pre', null, shown || '(empty body)'),
        );
      } catch (err) {
        out.replaceChildren(el('div.status.s5', null, `The request failed: ${err.message}`));
      }
    };
    return el(
      'form.try',
      { onsubmit: send },
      el('h4', null, 'Try it'),
      inputs.map((i) => i.row),
      body ? el('label.input.body', null, el('span', null, 'JSON body'), body) : null,
      el('button', { type: 'submit' }, 'Send'),
      out,
    );
  }

  function operationView(method, path, op, shared) {
    const params = [...(shared || []), ...(op.parameters || [])].map(resolve);
    const media = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    const id = op.operationId || `${method}-${path}`;
    return el(
      'details.op',
      { id, 'data-search': `${method} ${path} ${op.summary || ''}`.toLowerCase() },
      el('summary', null, el(`span.method.${method}`, null, method.toUpperCase()), el('code.path', null, path), el('span.summary', null, op.summary || '')),
      prose(op.description),
      el('p.auth', null, el('strong', null, 'Auth: '), securityText(op.security ?? spec.security)),
      params.length
        ? [el('h4', null, 'Parameters'), el('table.params', null, el('tbody', null, params.map(paramRow)))]
        : null,
      media
        ? [el('h4', null, `Request body${op.requestBody.required ? '' : ' (optional)'}`), schemaView(media.schema)]
        : null,
      el('h4', null, 'Responses'),
      el(
        'dl.responses',
        null,
        Object.entries(op.responses || {}).map(([status, r]) => {
          const response = resolve(r);
          const [type, content] = Object.entries(response.content || {})[0] || [];
          return [
            el(`dt.s${status[0]}`, null, status),
            el('dd', null, prose(response.description), content && content.schema ? [el('div.note', null, type), schemaView(content.schema)] : null),
          ];
        }),
      ),
      tryIt(method, path, op, params),
    );
  }

  function render() {
    const info = spec.info || {};
    const byTag = new Map((spec.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const name = (op.tags && op.tags[0]) || 'Other';
        if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
        byTag.get(name).ops.push(operationView(method, path, op, item.parameters));
      }
    }
    const groups = [...byTag.values()].filter((g) => g.ops.length);
    const token = el('input', { id: 'token', type: 'password', autocomplete: 'off', placeholder: 'API key or node token', value: sessionStorage.getItem(TOKEN_KEY) || '' });
    token.addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, token.value));
    const filter = el('input', { type: 'search', placeholder: 'Filter operations' });
    filter.addEventListener('input', () => {
      const q = filter.value.trim().toLowerCase();
      for (const node of document.querySelectorAll('[data-search]')) node.hidden = q !== '' && !node.dataset.search.includes(q);
    });
    const schemes = Object.entries((spec.components && spec.components.securitySchemes) || {});
    document.body.replaceChildren(
      el(
        'header',
        null,
        el('h1', null, info.title || 'API', ' ', el('span.version', null, info.version || '')),
        el('label.token', null, 'Bearer ', token),
        el('a', { href: document.body.dataset.spec }, 'openapi.json'),
      ),
      el(
        'nav',
        null,
        filter,
        groups.map((g) =>
          el(
            'div.navgroup',
            null,
            el('a.tag', { href: `#tag-${g.tag.name}` }, g.tag.name),
            g.ops.map((op) => el('a.navop', { href: `#${op.id}`, 'data-search': op.dataset.search }, op.querySelector('summary .method').cloneNode(true), op.querySelector('summary .path').textContent)),
          ),
        ),
      ),
      el(
        'main',
        null,
        prose(info.description),
        schemes.length
          ? el('section.schemes', null, el('h2', null, 'Authentication'), el('dl', null, schemes.map(([name, s]) => [el('dt', null, el('code', null, name), ` ${s.type}${s.scheme ? ' ' + s.scheme : ''}`), el('dd', null, prose(s.description))])))
          : null,
        groups.map((g) => el('section', { id: `tag-${g.tag.name}` }, el('h2', null, g.tag.name), prose(g.tag.description), g.ops)),
      ),
    );
    openFromHash();
  }

  function openFromHash() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === 'DETAILS') {
      target.open = true;
      target.scrollIntoView();
    }
  }

  window.addEventListener('hashchange', openFromHash);
  fetch(document.body.dataset.spec, { headers: { accept: 'application/json' } })
    .then((res) => {
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      return res.json();
    })
    .then((doc) => {
      spec = doc;
      render();
    })
    .catch((err) => document.body.replaceChildren(el('p.error', null, `Could not load ${document.body.dataset.spec}: ${err.message}`)));
})();
