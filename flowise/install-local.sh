#!/bin/sh
# Installs the OPEA components (built by `npm run build:flowise` into dist-flowise/) into a Flowise
# installation: nodes into <flowise-components>/dist/nodes/opea, the credential into
# <flowise-components>/dist/credentials, and the runtime package into
# <flowise-components>/node_modules/node-red-contrib-opea (then its dependencies with npm).
# Flowise 3.x loads nodes only from its own components package, so that is where they must go.
#
#   sh install-local.sh [--skip-npm] [--uninstall] [FLOWISE_COMPONENTS_DIR]
#
# Without a directory it looks where `npm install -g flowise` and the official images put it.
# --skip-npm installs no dependencies: a runtime installed before keeps the ones it has (a quick
# reinstall after a rebuild). POSIX sh: runs in the alpine-based Flowise images too. Restart Flowise afterwards.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SKIP_NPM=0
UNINSTALL=0
TARGET=""
for arg in "$@"; do
  case "$arg" in
    --skip-npm) SKIP_NPM=1 ;;
    --uninstall) UNINSTALL=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "install-local.sh: unknown option $arg" >&2; exit 2 ;;
    *) TARGET=$arg ;;
  esac
done

if [ -z "$TARGET" ]; then
  GLOBAL=$(npm root -g 2>/dev/null || echo "")
  for candidate in \
    "$GLOBAL/flowise/node_modules/flowise-components" \
    "$GLOBAL/flowise-components" \
    /usr/src/flowise/packages/components \
    /usr/src/packages/components; do
    if [ -d "$candidate/dist/nodes" ]; then TARGET=$candidate; break; fi
  done
fi
if [ -z "$TARGET" ] || [ ! -d "$TARGET/dist/nodes" ] || [ ! -d "$TARGET/dist/credentials" ]; then
  echo "install-local.sh: no Flowise components package found (it has dist/nodes and dist/credentials)." >&2
  echo "Pass its directory, e.g. \$(npm root -g)/flowise/node_modules/flowise-components" >&2
  exit 1
fi
TARGET=$(cd "$TARGET" && pwd)
RUNTIME="$TARGET/node_modules/node-red-contrib-opea"

if [ "$UNINSTALL" = 0 ]; then
  [ -d "$HERE/nodes/opea" ] && [ -d "$HERE/node_modules/node-red-contrib-opea" ] || { echo "install-local.sh: run it from dist-flowise/ (npm run build:flowise)" >&2; exit 1; }
fi
KEPT=""
if [ "$SKIP_NPM" = 1 ] && [ "$UNINSTALL" = 0 ] && [ -d "$RUNTIME/node_modules" ]; then
  KEPT="$TARGET/node_modules/.node-red-contrib-opea-dependencies"
  rm -rf "$KEPT"
  mv "$RUNTIME/node_modules" "$KEPT"
fi
rm -rf "$TARGET/dist/nodes/opea" "$RUNTIME"
for cred in "$HERE"/credentials/*.credential.js; do rm -f "$TARGET/dist/credentials/$(basename "$cred")"; done
if [ "$UNINSTALL" = 1 ]; then
  echo "Removed the OPEA components from $TARGET"
  exit 0
fi

cp -R "$HERE/nodes/opea" "$TARGET/dist/nodes/opea"
cp "$HERE"/credentials/*.credential.js "$TARGET/dist/credentials/"
mkdir -p "$TARGET/node_modules"
cp -R "$HERE/node_modules/node-red-contrib-opea" "$RUNTIME"
if [ -n "$KEPT" ]; then mv "$KEPT" "$RUNTIME/node_modules"; fi
if [ "$SKIP_NPM" = 0 ]; then
  (cd "$RUNTIME" && npm install --omit=dev --no-audit --no-fund --ignore-scripts --no-package-lock)
fi
echo "Installed $(ls "$TARGET/dist/nodes/opea" | wc -l | tr -d ' ') OPEA nodes into $TARGET; restart Flowise."
