// Copies each node's editor HTML, locales and icons next to its built .js (Node-RED looks there).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'nodes');
fs.mkdirSync(out, { recursive: true });

for (const name of fs.readdirSync(path.join(root, 'nodes'))) {
  if (name.endsWith('.html')) fs.copyFileSync(path.join(root, 'nodes', name), path.join(out, name));
}
for (const dir of ['locales', 'icons']) {
  const src = dir === 'icons' ? path.join(root, 'icons') : path.join(root, 'nodes', dir);
  if (fs.existsSync(src)) fs.cpSync(src, path.join(out, dir), { recursive: true });
}
