# frozen_string_literal: true

# Kiln's Ruby runtime (ruby3.3, on the host's Ruby): a small client of the AWS Lambda Runtime API.
#
# Run as `ruby /var/runtime/ruby/kiln_bootstrap.rb [--opt DIR] [--prewarmed 1]` inside the sandbox. As Lambda's
# Ruby runtime does, it puts the task root and the layers' `ruby/lib` on the load path (gems come from
# `GEM_PATH`: `vendor/bundle` and `/opt/ruby/gems`), requires the handler's file (`file.method` calls a
# top-level method, `file.Module::Class.method` a class method) with `event:` and `context:` keyword
# arguments, answers with the result's `to_json`, and reports errors in the Ruby runtime's shape
# (`Function<RuntimeError>` with `errorMessage` and `stackTrace`). It loops `GET next` -> handler ->
# `POST response` or `POST error`, writing an end marker to stdout after each invocation so the worker can
# attribute every printed line to the invocation that printed it.

require "json"

module KilnRuntime
  END_MARKER = "\x1e\x1fKILN-END\n".b
  API = "/2018-06-01/runtime"
  OWN_FILE = File.expand_path(__FILE__)

  # HTTP/1.1 keep-alive client over one connection: the one Kiln hands over (KILN_RUNTIME_FD), else one
  # made to AWS_LAMBDA_RUNTIME_API (loading `socket` only then).
  class Client
    def initialize(address, fd)
      @host = address
      @buffer = +"".b
      if fd
        @io = IO.for_fd(fd, "r+b", autoclose: true)
        @io.close_on_exec = true # not for the processes the function starts
      else
        require "socket"
        host, port = address.split(":", 2)
        @io = TCPSocket.new(host, Integer(port))
        @io.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      end
      @io.sync = true
    end

    def request(method, path, body = "".b, headers = {})
      body = body.b
      head = +"#{method} #{path} HTTP/1.1\r\nHost: #{@host}\r\nContent-Length: #{body.bytesize}\r\n"
      headers.each { |key, value| head << "#{key}: #{value}\r\n" }
      @io.write(head.b << "\r\n" << body)
      status = readline.split(" ", 3)[1].to_i
      response_headers = {}
      loop do
        line = readline
        break if line == "\r\n" || line == "\n"

        key, value = line.split(":", 2)
        response_headers[key.strip.downcase.force_encoding(Encoding::UTF_8)] = value.to_s.strip.force_encoding(Encoding::UTF_8)
      end
      length = response_headers.fetch("content-length", "0").to_i
      [status, response_headers, length.positive? ? read(length) : "".b]
    end

    private

    def fill
      @buffer << @io.readpartial(65_536)
    rescue EOFError
      exit!(1) # the worker closed the Runtime API: this environment is over
    end

    def readline
      fill until (index = @buffer.index("\n"))
      @buffer.slice!(0, index + 1)
    end

    def read(length)
      fill while @buffer.bytesize < length
      @buffer.slice!(0, length)
    end
  end

  class InitError < StandardError
    attr_reader :type

    def initialize(type, message)
      super(message)
      @type = type
    end
  end

  # The context object Lambda's Ruby runtime passes as `context:`.
  class LambdaContext
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name, :function_name,
                :memory_limit_in_mb, :function_version, :identity, :client_context, :deadline_ms

    def initialize(headers)
      @deadline_ms = headers["lambda-runtime-deadline-ms"].to_i
      @aws_request_id = headers["lambda-runtime-aws-request-id"]
      @invoked_function_arn = headers["lambda-runtime-invoked-function-arn"]
      @log_group_name = ENV["AWS_LAMBDA_LOG_GROUP_NAME"]
      @log_stream_name = ENV["AWS_LAMBDA_LOG_STREAM_NAME"]
      @function_name = ENV["AWS_LAMBDA_FUNCTION_NAME"]
      @memory_limit_in_mb = ENV["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
      @function_version = ENV["AWS_LAMBDA_FUNCTION_VERSION"]
      @identity = nil
      @client_context = nil
      raw = headers["lambda-runtime-client-context"]
      @client_context = (JSON.parse(raw) rescue nil) if raw && !raw.empty?
    end

    def get_remaining_time_in_millis # Lambda's name
      [@deadline_ms - Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond), 0].max
    end
  end

  module_function

  # The function's frames: those above Kiln's bootstrap, without Ruby's own `<internal:...>` ones.
  def stack_trace(error)
    (error.backtrace || []).take_while { |line| !line.start_with?(OWN_FILE, __FILE__) }.reject { |line| line.start_with?("<internal:") }
  end

  def error_object(error, classification)
    { "errorMessage" => error.message.to_s, "errorType" => "#{classification}<#{error.class}>", "stackTrace" => stack_trace(error) }
  end

  # Resolve `file.method` or `file.Module::Class.method`: require the file, find the method.
  def load_handler(spec, main)
    parts = spec.split(".")
    unless [2, 3].include?(parts.size) && parts.none?(&:empty?)
      raise InitError.new("Runtime.MalformedHandlerName",
                          "Invalid handler #{spec}, must be of form FILENAME.METHOD or FILENAME.CLASS.METHOD where FILENAME corresponds " \
                          "with an existing Ruby source file FILENAME.rb, CLASS is an optional module/class namespace and METHOD is a callable method.")
    end
    file, *scope, name = parts
    require file
    if scope.empty?
      found = Object.private_method_defined?(name, false) || Object.public_method_defined?(name, false) || main.singleton_methods.include?(name.to_sym)
      raise InitError.new("Runtime.HandlerNotFound", "Handler '#{name}' missing on file '#{file}'") unless found

      return [main, name]
    end
    target = begin
      Object.const_get(scope.first)
    rescue NameError
      raise InitError.new("Runtime.HandlerNotFound", "Handler '#{scope.first}.#{name}' missing on file '#{file}': uninitialized constant #{scope.first}")
    end
    raise InitError.new("Runtime.HandlerNotFound", "Handler '#{scope.first}.#{name}' missing on file '#{file}': #{scope.first} has no class method #{name}") unless target.respond_to?(name, true)

    [target, name]
  end

  def marshal(result)
    return result.read.to_s.b if result.is_a?(IO) || (defined?(StringIO) && result.is_a?(StringIO))

    result.to_json
  end

  def run(main)
    args = ARGV.each_slice(2).to_h
    fd = ENV.delete("KILN_RUNTIME_FD") # the connection Kiln opened, not the function's
    client = Client.new(ENV.fetch("AWS_LAMBDA_RUNTIME_API", ""), fd && Integer(fd))
    if args["--prewarmed"] # started ahead of need: wait for the function's environment
      _, _, body = client.request("GET", "#{API}/kiln/configuration")
      ENV.update(JSON.parse(body.force_encoding(Encoding::UTF_8)))
      Gem.clear_paths if defined?(Gem.clear_paths) # GEM_PATH arrived with it
    end
    $stdout.sync = true
    $stderr.sync = true
    task_root = ENV.fetch("LAMBDA_TASK_ROOT", "/var/task")
    opt = args.fetch("--opt", "/opt")
    $LOAD_PATH.unshift(task_root, "#{opt}/ruby/lib")
    Dir.chdir(task_root)
    spec = ENV.fetch("_HANDLER", "")
    begin
      target, name = load_handler(spec, main)
    rescue InitError => e
      init_failed(client, spec, { "errorMessage" => e.message, "errorType" => e.type, "stackTrace" => [] })
    rescue SyntaxError => e
      init_failed(client, spec, { "errorMessage" => e.message, "errorType" => "Runtime.UserCodeSyntaxError", "stackTrace" => stack_trace(e) })
    rescue Exception => e # any failure of the function's own init
      init_failed(client, spec, error_object(e, "Init"))
    end
    loop do
      _, headers, body = client.request("GET", "#{API}/invocation/next")
      request_id = headers["lambda-runtime-aws-request-id"]
      ENV["_X_AMZN_TRACE_ID"] = headers.fetch("lambda-runtime-trace-id", "")
      begin
        event = body.empty? ? nil : JSON.parse(body.force_encoding(Encoding::UTF_8))
        payload = marshal(target.__send__(name, event: event, context: LambdaContext.new(headers)))
        route, extra = "response", {}
      rescue StandardError, ScriptError, NoMemoryError, SystemStackError => e # SystemExit and signals end the runtime
        error = error_object(e, "Function")
        $stdout.write("Error raised from handler method\n#{JSON.pretty_generate(error)}\n")
        payload = error.to_json
        route, extra = "error", { "Lambda-Runtime-Function-Error-Type" => error["errorType"] }
      end
      $stdout.flush
      $stdout.write(END_MARKER)
      client.request("POST", "#{API}/invocation/#{request_id}/#{route}", payload, extra)
    end
  end

  def init_failed(client, spec, error)
    $stdout.write("Init error when loading handler #{spec}\n#{JSON.pretty_generate(error)}\n")
    $stdout.flush
    client.request("POST", "#{API}/init/error", error.to_json, { "Lambda-Runtime-Function-Error-Type" => error["errorType"] })
    exit!(1)
  end
end

KilnRuntime.run(self)
