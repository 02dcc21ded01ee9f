// Kiln's Node.js runtime: pointing the function's AWS SDK at Kiln, and ES module imports from layers.
//
// SDK v3 (and boto3) read AWS_ENDPOINT_URL themselves. SDK v2 (`aws-sdk`, from a layer or the function's
// package) reads no endpoint from the environment, so `pointSdkV2AtKiln` wraps the CommonJS loader: the
// first time a module returns SDK v2's `AWS` object (lib/core.js, required by lib/aws.js whether the
// function `require`s or `import`s it), its global config gets Kiln's endpoint and path-style S3 (a
// `<bucket>.127.0.0.1` host would not resolve), and so does any config later assigned to `AWS.config`,
// unless it names an endpoint of its own. ES modules resolve bare specifiers without NODE_PATH, so
// `resolveFromLayers` registers a resolve hook (esm_layers.mjs) that looks in NODE_PATH's directories
// (the layers' /opt/nodejs/node_modules) when the usual resolution finds nothing, as CommonJS would.
"use strict";

function pointSdkV2AtKiln(endpoint) {
  if (!endpoint) return;
  const Module = require("node:module");
  const load = Module._load;
  const seen = new WeakSet();
  const point = (config) => {
    if (config && typeof config.update === "function" && !config.endpoint) config.update({ endpoint, s3ForcePathStyle: true });
  };
  Module._load = function kilnLoad(...args) {
    const exported = load.apply(this, args);
    // `in` first: reading a missing property of a module still loading makes Node.js warn of a cycle.
    if (exported !== null && typeof exported === "object" && "VERSION" in exported && "Config" in exported && "util" in exported
        && !seen.has(exported) && typeof exported.VERSION === "string" && exported.VERSION.startsWith("2.")) {
      seen.add(exported);
      let current = exported.config;
      point(current);
      Object.defineProperty(exported, "config", {
        configurable: true, enumerable: true, get: () => current, set: (value) => { point(value); current = value; },
      });
    }
    return exported;
  };
}

let registered = false;

function resolveFromLayers(nodePath) {
  if (registered || !nodePath) return;
  registered = true;
  const { register } = require("node:module");
  const { pathToFileURL } = require("node:url");
  if (typeof register !== "function") return; // Node.js before 20.6
  register(pathToFileURL(`${__dirname}/esm_layers.mjs`).href, { data: { dirs: nodePath.split(":").filter(Boolean) } });
}

module.exports = { pointSdkV2AtKiln, resolveFromLayers };
