#!/usr/bin/env bash
# Builds the console's vendored front-end libraries from npm (`make assets`); the results are committed,
# so `make run` needs neither Node.js nor the network.
#
#   assets/package.json, package-lock.json   the pinned npm packages (npm ci installs exactly these)
#   assets/codemirror.js                     the entry: CodeMirror 6 and its languages as window.KilnCM
#
# Writes into console/static/console/vendor/:
#   codemirror-<@codemirror/view version>.min.js   one minified esbuild bundle (IIFE)
#   chart-<chart.js version>.umd.min.js            Chart.js' own UMD build (window.Chart)
#   vendor.json                                    {"codemirror": path, "chartjs": path} for {% vendor_static %}
#   LICENSES.txt                                   the licenses of what the bundles contain
# Older versions' files are removed. Source-map comments are stripped (no .map files are vendored, and
# ManifestStaticFilesStorage would refuse a reference to a missing one).
# Needs Node.js >= 18 and npm; `scripts/assets.sh --offline` uses npm's cache only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SRC="$ROOT/assets"
OUT="$ROOT/console/static/console/vendor"

command -v node >/dev/null && command -v npm >/dev/null || { echo "make assets needs Node.js and npm on PATH" >&2; exit 1; }
NPM_FLAGS=(--no-audit --no-fund --ignore-scripts)
[[ "${1:-}" == "--offline" ]] && NPM_FLAGS+=(--offline)

cd "$SRC"
npm ci "${NPM_FLAGS[@]}"
version() { node -p "require('./node_modules/$1/package.json').version"; }
CM_VERSION="$(version @codemirror/view)"
CHART_VERSION="$(version chart.js)"
CM_FILE="codemirror-$CM_VERSION.min.js"
CHART_FILE="chart-$CHART_VERSION.umd.min.js"

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

./node_modules/.bin/esbuild codemirror.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --log-level=warning --outfile="$TMP/$CM_FILE"
{ printf '/* Kiln console: CodeMirror %s (MIT, https://codemirror.net) with its Python, JavaScript/TypeScript, Java, Ruby, Go, JSON, YAML and shell modes; built by scripts/assets.sh from assets/. Licenses: LICENSES.txt */\n' "$CM_VERSION"; cat "$TMP/$CM_FILE"; } > "$TMP/cm.js"
sed '/^\/\/# sourceMappingURL=/d' node_modules/chart.js/dist/chart.umd.min.js > "$TMP/chart.js"

# Replace older versions only once the new files are built.
find "$OUT" -maxdepth 1 \( -name 'codemirror-*.min.js' -o -name 'chart-*.umd.min.js' \) -delete
mv "$TMP/cm.js" "$OUT/$CM_FILE"
mv "$TMP/chart.js" "$OUT/$CHART_FILE"
printf '{\n  "codemirror": "console/vendor/%s",\n  "chartjs": "console/vendor/%s"\n}\n' "$CM_FILE" "$CHART_FILE" > "$OUT/vendor.json"

# The licenses of every package in the bundles (all MIT).
{
  echo "Licenses of the npm packages bundled into the files of this folder (scripts/assets.sh)."
  for dir in node_modules/@codemirror/* node_modules/@lezer/* node_modules/crelt node_modules/style-mod node_modules/w3c-keyname node_modules/@marijn/* node_modules/chart.js node_modules/@kurkle/*; do
    [[ -f "$dir/package.json" ]] || continue
    license_file="$(ls "$dir"/LICENSE* 2>/dev/null | head -1 || true)"
    printf '\n==== %s %s (%s)\n' "$(node -p "require('./$dir/package.json').name")" "$(node -p "require('./$dir/package.json').version")" "$(node -p "require('./$dir/package.json').license")"
    [[ -n "$license_file" ]] && cat "$license_file"
  done
} > "$OUT/LICENSES.txt"

ls -l "$OUT"
