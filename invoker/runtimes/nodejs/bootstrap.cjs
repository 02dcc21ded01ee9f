// Kiln's Node.js runtime: a small client of the AWS Lambda Runtime API.
//
// Run as `node bootstrap.cjs` inside the sandbox (CommonJS: the ES module loader would add to every cold start). It loads the handler as Lambda does (CommonJS via
// require, ES modules via import: `.mjs`, or `.js` under a package.json with "type": "module"),
// supports async and callback handlers, formats console output as Lambda's Node runtime does
// (timestamp, request id, level), and writes an end marker after each invocation so the worker can
// attribute output to the invocation that printed it.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const util = require("node:util");
const { createRequire } = require("node:module");
const { pathToFileURL } = require("node:url");

const END_MARKER = "\x1e\x1fKILN-END\n";
const API = "/2018-06-01/runtime";
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
let currentRequestId = undefined;

// A keep-alive HTTP/1.1 client on one connection; requests are sent one at a time, in order. The `http`
// module's load and first request cost several milliseconds of every cold start, and so does `net`'s:
// loading it costs ~9 ms once a V8 flag (the heap size) makes Node compile its built-ins from source.
// So Kiln hands the runtime a connection already open (`KILN_RUNTIME_FD`), which it uses through `fs`
// (reads and writes on the libuv thread pool, so the event loop runs while it waits); without one
// (another launcher) it connects to AWS_LAMBDA_RUNTIME_API with `net`.
const runtimeFd = process.env.KILN_RUNTIME_FD === undefined ? null : Number(process.env.KILN_RUNTIME_FD);
delete process.env.KILN_RUNTIME_FD;
let socket = null;
let buffer = Buffer.alloc(0);
let waiting = null;
let queue = Promise.resolve();

function takeResponse() {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] || 0);
  if (buffer.length < end + 4 + length) return null;
  const body = Buffer.from(buffer.subarray(end + 4, end + 4 + length));
  buffer = buffer.subarray(end + 4 + length);
  return { status: Number(lines[0].split(" ")[1]), headers, body };
}

function connect() {
  const net = require("node:net");
  return new Promise((resolve, reject) => {
    socket = net.connect({ host, port: Number(port) });
    socket.setNoDelay(true);
    socket.once("connect", resolve);
    socket.on("error", (err) => {
      if (waiting) waiting.reject(err);
      reject(err);
    });
    socket.on("data", (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      const response = waiting && takeResponse();
      if (response) {
        const done = waiting;
        waiting = null;
        done.resolve(response);
      }
    });
    socket.on("close", () => {
      if (waiting) waiting.reject(new Error("the Runtime API closed the connection"));
      process.exit(1);
    });
  });
}

function fdWrite(data, offset = 0) {
  return new Promise((resolve, reject) => {
    fs.write(runtimeFd, data, offset, data.length - offset, null, (err, written) => {
      if (err) reject(err);
      else resolve(offset + written < data.length ? fdWrite(data, offset + written) : undefined);
    });
  });
}

function fdRead() {
  return new Promise((resolve) => {
    const chunk = Buffer.allocUnsafe(65536);
    fs.read(runtimeFd, chunk, 0, chunk.length, null, (err, read) => {
      if (err || read === 0) process.exit(1); // the worker closed the Runtime API: this environment is over
      resolve(chunk.subarray(0, read));
    });
  });
}

async function fdExchange(message) {
  await fdWrite(message);
  for (;;) {
    const response = takeResponse();
    if (response) return response;
    const chunk = await fdRead();
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
  }
}

function request(method, urlPath, body, headers = {}) {
  const send = async () => {
    const data = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Length: ${data.length}\r\n`;
    for (const [key, value] of Object.entries(headers)) head += `${key}: ${value}\r\n`;
    const message = data.length ? Buffer.concat([Buffer.from(head + "\r\n", "latin1"), data]) : Buffer.from(head + "\r\n", "latin1");
    if (runtimeFd !== null) return fdExchange(message);
    if (!socket) await connect();
    return new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      socket.write(message);
    });
  };
  const result = queue.then(send, send);
  queue = result.catch(() => {});
  return result;
}

function patchConsole() {
  const write = (level) => (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

function errorObject(err) {
  if (err instanceof Error) {
    return { errorType: err.name || "Error", errorMessage: err.message, trace: String(err.stack || "").split("\n") };
  }
  return { errorType: typeof err === "string" ? "string" : "Error", errorMessage: typeof err === "string" ? err : util.format(err), trace: [] };
}

function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  let dir = path.dirname(file);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module"; } catch { return false; }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

class InitError extends Error {
  constructor(type, message, trace = []) { super(message); this.type = type; this.trace = trace; }
}

async function loadHandler(taskRoot, spec) {
  const slash = spec.lastIndexOf("/");
  const dir = slash >= 0 ? spec.slice(0, slash + 1) : "";
  const rest = spec.slice(slash + 1);
  const dot = rest.indexOf(".");
  if (dot <= 0 || dot === rest.length - 1) throw new InitError("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const moduleName = dir + rest.slice(0, dot);
  const functionPath = rest.slice(dot + 1).split(".");
  const base = path.resolve(taskRoot, moduleName);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  let mod;
  try {
    if (!file) {
      mod = createRequire(path.join(taskRoot, "index.js"))(base);
    } else if (isEsm(file)) {
      require("./aws_sdk.cjs").resolveFromLayers(process.env.NODE_PATH);
      mod = await import(pathToFileURL(file).href);
    } else {
      mod = createRequire(file)(file);
    }
  } catch (err) {
    if (err instanceof SyntaxError) throw new InitError("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`, String(err.stack || "").split("\n"));
    if (err && (err.code === "MODULE_NOT_FOUND" || err.code === "ERR_MODULE_NOT_FOUND")) {
      throw new InitError("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`, String(err.stack || "").split("\n"));
    }
    throw err;
  }
  let handler = mod;
  for (const part of functionPath) handler = handler == null ? undefined : handler[part];
  if (handler === undefined && mod && mod.default) {
    handler = mod.default;
    for (const part of functionPath) handler = handler == null ? undefined : handler[part];
  }
  if (typeof handler !== "function") throw new InitError("Runtime.HandlerNotFound", `${moduleName}.${functionPath.join(".")} is undefined or not exported`);
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  if (headers["lambda-runtime-client-context"]) {
    try { ctx.clientContext = JSON.parse(headers["lambda-runtime-client-context"]); } catch { /* ignore */ }
  }
  return ctx;
}

function runHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(value);
    };
    ctx.done = callback;
    ctx.succeed = (value) => callback(null, value);
    ctx.fail = (err) => callback(err ?? new Error("handled"));
    let returned;
    try {
      returned = handler(event, ctx, callback);
    } catch (err) {
      callback(err);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then((value) => callback(null, value), (err) => callback(err));
    } else if (handler.length < 3) {
      callback(null, returned);
    }
  });
}

async function finish(requestId, ok, value) {
  let route = "response";
  let body;
  let headers = {};
  if (ok) {
    body = value === undefined ? "null" : JSON.stringify(value);
    if (body === undefined) body = "null";
  } else {
    const error = errorObject(value);
    process.stdout.write(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}\n`);
    body = JSON.stringify(error);
    route = "error";
    headers = { "Lambda-Runtime-Function-Error-Type": "Unhandled" };
  }
  process.stdout.write(END_MARKER);
  await request("POST", `${API}/invocation/${requestId}/${route}`, body, headers);
}

// The clients Lambda's users reach for most, and the class of each that a throwaway instance is made of.
const PRELOADED_SDK = [["@aws-sdk/client-s3", "S3Client"], ["@aws-sdk/client-dynamodb", "DynamoDBClient"], ["@aws-sdk/lib-dynamodb", null],
  ["@aws-sdk/client-sqs", "SQSClient"], ["@aws-sdk/client-sns", "SNSClient"]];

// Load the SDK and make one throwaway client of each, so V8 has compiled what a constructor runs (it compiles
// functions on first call: ~15 ms of the function's first `new S3Client({})` otherwise). Each is given its
// region, keys and defaults mode, so no provider reads the environment or ~/.aws (whose reads the SDK caches
// for the process), and `process.version` reads as a supported one meanwhile, so the SDK's once-per-process
// Node.js version warning is left for the function's own first client, as it would be without a preload.
function preloadSdk() {
  const loaded = [];
  const version = Object.getOwnPropertyDescriptor(process, "version");
  const placeholder = { region: "us-east-1", defaultsMode: "legacy", credentials: { accessKeyId: "KILNPRELOAD", secretAccessKey: "kiln-preload" } };
  try {
    Object.defineProperty(process, "version", { ...version, value: "v99.0.0" });
    for (const [name, client] of PRELOADED_SDK) {
      try {
        const module = require(name);
        if (client) new module[client](placeholder);
        loaded.push(name);
      } catch {
        // not installed with this runtime: the function's own require reports it, as it would have
      }
    }
  } finally {
    Object.defineProperty(process, "version", version);
  }
  // The output streams too (made on first use: loading `net` for a pipe costs ~9 ms under the heap-size flag),
  // which the SDK's first client writes its warning to, on Node.js before 22.
  void process.stdout;
  void process.stderr;
  return loaded;
}

async function main() {
  patchConsole();
  if (process.argv.includes("--prewarmed")) {
    // Started ahead of need: wait for the function's environment. With --preload-sdk, first load the
    // runtime's AWS SDK v3 clients (from NODE_PATH, as the function's require would find them), off the
    // cold path: the function's require of the same files is then answered from require.cache, while
    // its own copy (in its package or a layer) is another file and loads as usual.
    const held = process.argv.includes("--preload-sdk") ? JSON.stringify({ preloaded: preloadSdk() }) : undefined;
    const configuration = await request("GET", `${API}/kiln/configuration`, held);
    Object.assign(process.env, JSON.parse(configuration.body.toString("utf8")));
  }
  if (process.env.AWS_ENDPOINT_URL) require("./aws_sdk.cjs").pointSdkV2AtKiln(process.env.AWS_ENDPOINT_URL);
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  process.chdir(taskRoot);
  let handler;
  try {
    handler = await loadHandler(taskRoot, process.env._HANDLER || "");
  } catch (err) {
    const error = err instanceof InitError ? { errorType: err.type, errorMessage: err.message, trace: err.trace } : errorObject(err);
    process.stdout.write(`${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(error)}\n`);
    await request("POST", `${API}/init/error`, JSON.stringify(error), { "Lambda-Runtime-Function-Error-Type": error.errorType });
    process.exit(1);
  }
  const crash = async (err) => {
    if (currentRequestId) {
      const error = errorObject(err);
      error.errorType = err instanceof Error ? err.name : "Runtime.UnhandledPromiseRejection";
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\tERROR\tUncaught Exception \t${JSON.stringify(error)}\n${END_MARKER}`);
      await request("POST", `${API}/invocation/${currentRequestId}/error`, JSON.stringify(error), { "Lambda-Runtime-Function-Error-Type": "Unhandled" }).catch(() => {});
    }
    process.exit(129);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  for (;;) {
    const next = await request("GET", `${API}/invocation/next`);
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
    } catch (err) {
      await finish(requestId, false, err);
      continue;
    }
    try {
      const value = await runHandler(handler, event, context(next.headers));
      await finish(requestId, true, value);
    } catch (err) {
      await finish(requestId, false, err);
    }
  }
}

main();
