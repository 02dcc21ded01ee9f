"""A small library of handlers used across the tests, for each runtime family.

``code(name, runtime)`` returns ``(files, handler)`` ready for ``POST /api/v1/functions/``.
"""

from __future__ import annotations

PYTHON = {
    "echo": "def handler(event, context):\n    return event\n",
    "context": (
        "def handler(event, context):\n"
        "    return {'function_name': context.function_name, 'function_version': context.function_version,\n"
        "            'invoked_function_arn': context.invoked_function_arn, 'memory_limit_in_mb': context.memory_limit_in_mb,\n"
        "            'aws_request_id': context.aws_request_id, 'log_group_name': context.log_group_name,\n"
        "            'log_stream_name': context.log_stream_name, 'remaining': context.get_remaining_time_in_millis()}\n"
    ),
    "counter": "count = 0\nprint('init ran')\n\ndef handler(event, context):\n    global count\n    count += 1\n    return {'count': count}\n",
    "sleep": "import time\n\ndef handler(event, context):\n    time.sleep(event.get('seconds', 10))\n    return 'woke'\n",
    "raise": "def handler(event, context):\n    raise ValueError('boom: ' + str(event.get('why', 'no reason')))\n",
    "exit": "import os\n\ndef handler(event, context):\n    os._exit(3)\n",
    "print": "import sys\n\ndef handler(event, context):\n    print('to stdout', event.get('n'))\n    print('to stderr', file=sys.stderr)\n    return 'printed'\n",
    "big": "def handler(event, context):\n    return 'x' * event['size']\n",
    "env": "import os\n\ndef handler(event, context):\n    return dict(os.environ)\n",
    "syntax": "def handler(event, context)\n    return 1\n",
    "nohandler": "def other(event, context):\n    return 1\n",
    "boto3": "import boto3\n\ndef handler(event, context):\n    return boto3.__version__\n",
    "layer": "import kilnlayer\n\ndef handler(event, context):\n    return kilnlayer.VALUE\n",
    "spam": "def handler(event, context):\n    print('y' * 1000 * event.get('kb', 300))\n    return 'spammed'\n",
}

NODE = {
    "echo": "exports.handler = async (event) => event;\n",
    "hello": (
        'exports.handler = async (event) => {\n  console.log("Event:", event);\n'
        '  return { statusCode: 200, body: JSON.stringify({ message: "Hello from Lambda!" }) };\n};\n'
    ),
    "context": (
        "exports.handler = async (event, context) => ({ functionName: context.functionName, awsRequestId: context.awsRequestId,\n"
        "  functionVersion: context.functionVersion, invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,\n"
        "  remaining: context.getRemainingTimeInMillis() });\n"
    ),
    "callback": "exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { via: 'callback', got: event }), 5); };\n",
    "raise": "exports.handler = async (event) => { throw new TypeError('node boom'); };\n",
    "counter": "let count = 0;\nconsole.log('init ran');\nexports.handler = async () => ({ count: ++count });\n",
    "sleep": "exports.handler = (event) => new Promise((r) => setTimeout(() => r('woke'), (event.seconds || 10) * 1000));\n",
    "env": "exports.handler = async () => ({ ...process.env });\n",
    "syntax": "exports.handler = async (event) => { return 1 \n",
    "nohandler": "exports.other = async () => 1;\n",
}

RUBY = {
    "echo": "def handler(event:, context:)\n  event\nend\n",
    "hello": "require 'json'\n\ndef lambda_handler(event:, context:)\n  puts \"Event: #{event}\"\n  { statusCode: 200, body: JSON.generate('Hello from Lambda!') }\nend\n",
    "context": (
        "def handler(event:, context:)\n"
        "  { function_name: context.function_name, function_version: context.function_version, invoked_function_arn: context.invoked_function_arn,\n"
        "    memory_limit_in_mb: context.memory_limit_in_mb, aws_request_id: context.aws_request_id, log_group_name: context.log_group_name,\n"
        "    log_stream_name: context.log_stream_name, deadline_ms: context.deadline_ms, remaining: context.get_remaining_time_in_millis }\n"
        "end\n"
    ),
    "counter": "$count = 0\nputs 'init ran'\n\ndef handler(event:, context:)\n  $count += 1\n  { count: $count }\nend\n",
    "sleep": "def handler(event:, context:)\n  sleep(event.fetch('seconds', 10))\n  'woke'\nend\n",
    "raise": "def handler(event:, context:)\n  raise ArgumentError, \"ruby boom: #{event.fetch('why', 'no reason')}\"\nend\n",
    "exit": "def handler(event:, context:)\n  exit!(3)\nend\n",
    "print": "def handler(event:, context:)\n  puts \"to stdout #{event['n']}\"\n  $stderr.puts 'to stderr'\n  'printed'\nend\n",
    "env": "def handler(event:, context:)\n  ENV.to_h\nend\n",
    "syntax": "def handler(event:, context:)\n  if true\n  1\nend\n",
    "nohandler": "def other(event:, context:)\n  1\nend\n",
    "klass": "module Kiln\n  class Greeter\n    def self.greet(event:, context:)\n      { greeted: event['name'], by: self.name }\n    end\n  end\nend\n",
}

RUBY_HANDLERS = {"hello": "index.lambda_handler", "klass": "index.Kiln::Greeter.greet"}

_JAVA_HEAD = "package example;\n\nimport com.amazonaws.services.lambda.runtime.Context;\nimport com.amazonaws.services.lambda.runtime.RequestHandler;\nimport java.util.*;\n\n"


def _java(body: str, implements: str = "RequestHandler<Map<String, Object>, Object>") -> str:
    return _JAVA_HEAD + f"public class Handler implements {implements} {{\n" + body + "}\n"


JAVA = {
    "echo": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n        return event;\n    }\n"),
    "context": _java(
        "    public Object handleRequest(Map<String, Object> event, Context context) {\n"
        "        Map<String, Object> out = new HashMap<>();\n"
        "        out.put(\"functionName\", context.getFunctionName());\n        out.put(\"functionVersion\", context.getFunctionVersion());\n"
        "        out.put(\"awsRequestId\", context.getAwsRequestId());\n        out.put(\"invokedFunctionArn\", context.getInvokedFunctionArn());\n"
        "        out.put(\"memoryLimitInMB\", context.getMemoryLimitInMB());\n        out.put(\"logGroupName\", context.getLogGroupName());\n"
        "        out.put(\"logStreamName\", context.getLogStreamName());\n        out.put(\"remaining\", context.getRemainingTimeInMillis());\n"
        "        out.put(\"maxHeapMB\", Runtime.getRuntime().maxMemory() >> 20);\n        out.put(\"toolOption\", System.getProperty(\"kiln.flag\"));\n"
        "        context.getLogger().log(\"logged through LambdaLogger\\n\");\n"
        "        return out;\n    }\n"),
    "counter": _java("    static int count = 0;\n    static { System.out.println(\"init ran\"); }\n"
                     "    public Object handleRequest(Map<String, Object> event, Context context) {\n        return Map.of(\"count\", ++count);\n    }\n"),
    "sleep": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n"
                   "        try { Thread.sleep(((Number) event.getOrDefault(\"seconds\", 10)).longValue() * 1000); } catch (InterruptedException e) { }\n"
                   "        return \"woke\";\n    }\n"),
    "raise": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n"
                   "        throw new IllegalStateException(\"java boom: \" + event.getOrDefault(\"why\", \"no reason\"));\n    }\n"),
    "exit": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n        Runtime.getRuntime().halt(3);\n        return null;\n    }\n"),
    "env": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n        return System.getenv();\n    }\n"),
    "syntax": _java("    public Object handleRequest(Map<String, Object> event, Context context) {\n        return event\n    }\n"),
    "nohandler": _JAVA_HEAD + "public class Handler {\n    public Object other(Map<String, Object> event) {\n        return event;\n    }\n}\n",
}

JAVA_HANDLERS = {"nohandler": "example.Handler::handleRequest"}

NODE_FILES = {
    # ES module via .mjs
    "esm": ({"index.mjs": "export const handler = async (event) => ({ esm: true, got: event });\n"}, "index.handler"),
    # ES module via "type": "module"
    "esm-type": ({"package.json": '{"type": "module"}', "app.js": "export const handler = async (event) => ({ esm: 'type', got: event });\n"}, "app.handler"),
}


def code(name: str, runtime: str) -> tuple[dict[str, str], str]:
    if runtime.startswith("python"):
        return {"index.py": PYTHON[name]}, "index.handler"
    if runtime.startswith("java"):
        return {"example/Handler.java": JAVA[name]}, JAVA_HANDLERS.get(name, "example.Handler::handleRequest")
    if runtime.startswith("ruby"):
        return {"index.rb": RUBY[name]}, RUBY_HANDLERS.get(name, "index.handler")
    if name in NODE_FILES:
        return NODE_FILES[name]
    return {"index.js": NODE[name]}, "index.handler"


def zip_base64(files: dict[str, str]) -> str:
    """``files`` (name → text) as a zip package, base64-encoded for ``{"code": {"zip_base64": ...}}``."""
    import base64
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()
