// A resolve hook (registered by aws_sdk.cjs): a bare specifier the ES module loader cannot find is looked
// up again from each NODE_PATH directory, so `import AWS from "aws-sdk"` finds a layer's package as
// `require` does. Anything else resolves as usual.
import { pathToFileURL } from "node:url";

let dirs = [];

export function initialize(data) {
  dirs = (data && data.dirs) || [];
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const bare = !/^(\.|\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
    if (!bare || !err || err.code !== "ERR_MODULE_NOT_FOUND") throw err;
    for (const dir of dirs) {
      try {
        return await next(specifier, { ...context, parentURL: pathToFileURL(`${dir}/node_modules.kiln.mjs`).href });
      } catch (again) {
        if (!again || again.code !== "ERR_MODULE_NOT_FOUND") throw again;
      }
    }
    throw err;
  }
}
