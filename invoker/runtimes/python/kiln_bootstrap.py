"""Kiln's Python runtime: a small client of the AWS Lambda Runtime API.

Imported by ``python -I -S -u -c "...; import kiln_bootstrap; kiln_bootstrap.main()" --opt DIR --libs DIR``
inside the sandbox (imported, not run as a script, so its bytecode is cached). It puts the task
root, the layers and the runtime's bundled libraries (boto3) on ``sys.path`` as Lambda does, imports
the handler (reporting ``/init/error`` on failure), then loops: ``GET next`` → call the handler →
``POST response`` or ``POST error``. After each invocation it writes an end marker to stdout, so
the worker can attribute every printed line to the invocation that printed it. A spare runtime
(``--prewarmed``) waits for its function's environment on ``GET /runtime/kiln/configuration``; with
``--preload-sdk`` it first loads boto3 (kiln_preload.py) and tells the worker what it loaded.
Only the standard library is used, and only what starts fast.
"""

import _json
import posix
import sys
import time

END_MARKER = b"\x1e\x1fKILN-END\n"
API = "/2018-06-01/runtime"
_WHITESPACE = " \t\n\r"


def getenv(name, default=None):
    """The environment, without importing ``os`` (1.5 ms of every start): ``os.environ`` once the
    function has imported ``os``, else the table ``os.environ`` will be built from."""
    os = sys.modules.get("os")
    if os is not None:
        return os.environ.get(name, default)
    value = posix.environ.get(name.encode())
    return default if value is None else value.decode("utf-8", "surrogateescape")


def setenv(values):
    """Set variables for the function's code (``os.environ``, now or when it imports ``os``) and for the
    processes it starts."""
    os = sys.modules.get("os")
    if os is not None:
        os.environ.update(values)
        return
    for name, value in values.items():
        raw_name, raw_value = name.encode(), value.encode("utf-8", "surrogateescape")
        posix.environ[raw_name] = raw_value
        posix.putenv(raw_name, raw_value)


class _ScanContext:
    """What ``_json.make_scanner`` reads: the json module's defaults, without importing it (and re)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
    memo: dict = {}


_scan = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]  # the context is duck-typed: any object with these attributes


def _not_serializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode = _json.make_encoder(None, _not_serializable, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)


def json_loads(data):
    """``json.loads`` for a complete document, through the C scanner."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def json_dumps(value):
    """``json.dumps`` with its default separators, through the C encoder."""
    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    return "".join(_encode(value, 0))


class RuntimeApi:
    """HTTP/1.1 keep-alive client over one TCP connection: the one Kiln hands over (``KILN_RUNTIME_FD``,
    used with ``posix.read``/``posix.write``, so ``_socket`` need not even load), else one made with
    ``_socket`` (no http.client, socket or email: their imports cost more than the rest of the start)."""

    def __init__(self, address, fd=None):
        self.host = address
        self.buffer = bytearray()
        self.fd = fd
        if fd is None:
            import _socket

            host, port = address.rsplit(":", 1)
            self.sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            self.sock.connect((host, int(port)))
            self.sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)

    def _send(self, data):
        if self.fd is None:
            self.sock.sendall(data)
            return
        view = memoryview(data)
        while view:
            view = view[posix.write(self.fd, view):]

    def _fill(self):
        chunk = self.sock.recv(65536) if self.fd is None else posix.read(self.fd, 65536)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self.buffer += chunk

    def _readline(self):
        while True:
            index = self.buffer.find(b"\n")
            if index >= 0:
                line = bytes(self.buffer[: index + 1])
                del self.buffer[: index + 1]
                return line
            self._fill()

    def _read(self, length):
        while len(self.buffer) < length:
            self._fill()
        data = bytes(self.buffer[:length])
        del self.buffer[:length]
        return data

    def request(self, method, path, body=b"", headers=None):
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        for key, value in (headers or {}).items():
            head += f"{key}: {value}\r\n"
        self._send(head.encode("latin-1") + b"\r\n" + body)
        status = int(self._readline().split(b" ", 2)[1])
        response_headers = {}
        while True:
            line = self._readline()
            if line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode("latin-1").partition(":")
            response_headers[key.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        return status, response_headers, self._read(length) if length else b""


class _Client:
    """``context.client_context.client``, as Lambda's Python runtime gives it."""

    def __init__(self, data):
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    """``context.client_context``: the caller's ``ClientContext`` (``client``, ``custom``, ``env``)."""

    def __init__(self, data):
        self.client = _Client(data["client"]) if isinstance(data.get("client"), dict) else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, headers):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = getenv("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = getenv("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = getenv("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = getenv("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        client_context = headers.get("lambda-runtime-client-context")
        if client_context:
            try:
                parsed = json_loads(client_context)
                self.client_context = ClientContext(parsed) if isinstance(parsed, dict) else None
            except ValueError:
                pass
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self):
        return f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name}])"


def error_object(exc, request_id=None):
    import traceback  # only on errors: it costs milliseconds at start

    frames = traceback.extract_tb(exc.__traceback__)
    error: dict = {"errorMessage": str(exc), "errorType": type(exc).__name__}
    if request_id:
        error["requestId"] = request_id
    error["stackTrace"] = traceback.format_list(frames)
    return error


def log_error(error):
    trace = "".join(error.get("stackTrace") or [])
    sys.stdout.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\nTraceback (most recent call last):\n{trace}")


def load_handler(spec):
    try:
        module_path, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        return None, {"errorType": "Runtime.MalformedHandlerName", "errorMessage": f"Bad handler '{spec}': {exc}", "stackTrace": []}
    module_name = module_path.replace("/", ".")
    try:
        __import__(module_name)
        module = sys.modules[module_name]
    except ImportError as exc:
        return None, {"errorType": "Runtime.ImportModuleError", "errorMessage": f"Unable to import module '{module_name}': {exc}", "stackTrace": []}
    except SyntaxError as exc:
        return None, {"errorType": "Runtime.UserCodeSyntaxError", "errorMessage": f"Syntax error in module '{module_name}': {exc}", "stackTrace": []}
    except Exception as exc:  # noqa: BLE001 - the function's own init failed
        return None, error_object(exc)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {"errorType": "Runtime.HandlerNotFound", "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'", "stackTrace": []}
    return handler, None


def main():
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    handed = posix.environ.pop(b"KILN_RUNTIME_FD", None)  # the connection Kiln opened, not the function's
    fd = None
    if handed is not None:
        posix.unsetenv(b"KILN_RUNTIME_FD")
        fd = int(handed)
        posix.set_inheritable(fd, False)  # nor for the processes the function starts
    if args.get("--libs"):
        sys.path.append(args["--libs"])
    held = b""
    if args.get("--prewarmed") and args.get("--preload-sdk"):
        # A spare runtime: the SDK loaded now (kiln_preload.py), off the cold path; the worker learns what
        # it loaded, so a function bringing its own copy of any of it is not given this runtime.
        import kiln_preload

        held = json_dumps({"preloaded": kiln_preload.preload()}).encode()
        del sys.modules["kiln_preload"]  # the function's own module of that name, if any, is not shadowed
    runtime_dir = __file__.rpartition("/")[0]  # absolute: imported from an absolute sys.path entry
    if runtime_dir in sys.path:  # Kiln's runtime is not the function's import path
        sys.path.remove(runtime_dir)
    api = RuntimeApi(getenv("AWS_LAMBDA_RUNTIME_API"), fd)
    if args.get("--prewarmed"):  # started ahead of need: wait for the function's environment
        _, _, body = api.request("GET", f"{API}/kiln/configuration", held)
        setenv(json_loads(body))
    task_root = getenv("LAMBDA_TASK_ROOT", "/var/task")
    opt = args.get("--opt", "/opt")
    version = "python%d.%d" % sys.version_info[:2]
    sys.path[0:0] = [task_root, f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]
    posix.chdir(task_root)
    handler, init_error = load_handler(getenv("_HANDLER", ""))
    if init_error:
        log_error(init_error)
        sys.stdout.flush()
        api.request("POST", f"{API}/init/error", json_dumps(init_error).encode(), {"Lambda-Runtime-Function-Error-Type": init_error["errorType"]})
        sys.exit(1)
    stdout = sys.stdout
    while True:
        _, headers, body = api.request("GET", f"{API}/invocation/next")
        request_id = headers["lambda-runtime-aws-request-id"]
        setenv({"_X_AMZN_TRACE_ID": headers.get("lambda-runtime-trace-id", "")})
        context = LambdaContext(request_id, int(headers.get("lambda-runtime-deadline-ms", "0")), headers.get("lambda-runtime-invoked-function-arn"), headers)
        try:
            event = json_loads(body) if body else None
            result = handler(event, context)
            try:
                payload = json_dumps(result).encode()
                path, extra = f"{API}/invocation/{request_id}/response", {}
            except (TypeError, ValueError, OverflowError, RecursionError) as exc:
                error = {"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
                log_error(error)
                payload = json_dumps(error).encode()
                path, extra = f"{API}/invocation/{request_id}/error", {"Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"}
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the invocation's result
            error = error_object(exc, request_id)
            log_error(error)
            payload = json_dumps(error).encode()
            path, extra = f"{API}/invocation/{request_id}/error", {"Lambda-Runtime-Function-Error-Type": "Unhandled"}
        stdout.flush()
        posix.write(1, END_MARKER)
        api.request("POST", path, payload, extra)


if __name__ == "__main__":
    main()

