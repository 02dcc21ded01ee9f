#!/usr/bin/env bash
# Installs the AWS SDK v3 clients Kiln's Node.js runtimes provide (invoker/runtimes/nodejs/sdk/package-lock.json)
# into .node-sdk/<digest of the lock>/node_modules, once per lock. Without npm, Node.js functions run without
# a bundled SDK (they can still bring their own or use a layer), and this says so.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=invoker/runtimes/nodejs/sdk/package-lock.json
digest=$(sha256sum "$lock" | cut -c1-16)
target=".node-sdk/$digest"
if [ -d "$target/node_modules/@aws-sdk/client-s3" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: Node.js functions get no bundled AWS SDK v3 (install npm and run make setup again)" >&2
  exit 0
fi
staging=$(mktemp -d ".node-sdk.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp invoker/runtimes/nodejs/sdk/package.json "$lock" "$staging/"
(cd "$staging" && npm ci --omit=dev --no-audit --no-fund --silent)
mkdir -p .node-sdk
chmod -R a+rX "$staging"
rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
echo "installed the Node.js runtimes' AWS SDK v3 in $target"
