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

NODE_FILES = {
    # ES module via .mjs
    "esm": ({"index.mjs": "export const handler = async (event) => ({ esm: true, got: event });\n"}, "index.handler"),
    # ES module via "type": "module"
    "esm-type": ({"package.json": '{"type": "module"}', "app.js": "export const handler = async (event) => ({ esm: 'type', got: event });\n"}, "app.handler"),
}


def code(name: str, runtime: str) -> tuple[dict[str, str], str]:
    if runtime.startswith("python"):
        return {"index.py": PYTHON[name]}, "index.handler"
    if runtime.startswith("ruby"):
        return {"index.rb": RUBY[name]}, RUBY_HANDLERS.get(name, "index.handler")
    if name in NODE_FILES:
        return NODE_FILES[name]
    return {"index.js": NODE[name]}, "index.handler"
