package kiln;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.net.Socket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kiln's Java runtime (java17): a small client of the AWS Lambda Runtime API.
 *
 * <p>Run as {@code java ... -cp /var/lang/java kiln.Bootstrap --opt /opt} inside the sandbox. It loads the
 * function from {@code /var/task} (classes, and {@code lib/*.jar}) and the layers' {@code java/lib/*.jar} in a
 * class loader of its own, resolves the handler as Lambda's Java runtime does ({@code package.Class::method},
 * or {@code package.Class} implementing {@code RequestHandler} or {@code RequestStreamHandler}), then loops:
 * {@code GET next} → handler → {@code POST response} or {@code POST error}, writing an end marker to stdout
 * after each invocation so the worker can attribute every printed line to the invocation that printed it.
 */
public final class Bootstrap {
    private static final byte[] END_MARKER = "\u001e\u001fKILN-END\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final String API = "/2018-06-01/runtime";

    /** Set by {@link Train}: the end of the Runtime API exits the JVM normally instead of halting it. */
    static volatile boolean training;

    private Bootstrap() {}

    /** An init failure with the error type Kiln reports for it. */
    static final class InitFailure extends Exception {
        final String type;

        InitFailure(String type, String message) {
            super(message);
            this.type = type;
        }
    }

    /**
     * HTTP/1.1 keep-alive client over one TCP connection to AWS_LAMBDA_RUNTIME_API: the one Kiln opened and
     * handed over ({@code --runtime-fd N}, read and written as a file), else one it connects itself.
     */
    static final class RuntimeClient {
        final String host;
        final InputStream in;
        final OutputStream out;
        Map<String, String> headers = new HashMap<>();

        RuntimeClient(String address, String handed) throws IOException {
            host = address;
            FileDescriptor fd = handed == null ? null : descriptor(Integer.parseInt(handed));
            if (fd != null) {
                in = new BufferedInputStream(new FileInputStream(fd), 65536);
                out = new FileOutputStream(fd);
                return;
            }
            int colon = address.lastIndexOf(':');
            Socket socket = new Socket(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 65536);
            out = socket.getOutputStream();
        }

        /**
         * The inherited descriptor {@code number} as a {@link FileDescriptor}, through {@code sun.misc.Unsafe}
         * (the JDK has no public way to adopt one); null if this JDK refuses. {@code java.net.Socket}'s first
         * use costs a cold start ~20 ms (its implementation's lambdas and properties, the proxy selector), a
         * descriptor read and written as a file nothing: {@code FileInputStream} is loaded at every JVM start.
         */
        static FileDescriptor descriptor(int number) {
            try {
                java.lang.reflect.Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                field.setAccessible(true);
                sun.misc.Unsafe unsafe = (sun.misc.Unsafe) field.get(null);
                FileDescriptor fd = new FileDescriptor();
                unsafe.putInt(fd, unsafe.objectFieldOffset(FileDescriptor.class.getDeclaredField("fd")), number);
                return fd;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        byte[] request(String method, String path, byte[] body, Map<String, String> extra) throws IOException {
            StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                    .append("\r\nContent-Length: ").append(body.length).append("\r\n");
            for (Map.Entry<String, String> e : extra.entrySet()) head.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
            head.append("\r\n");
            byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
            byte[] message = Arrays.copyOf(h, h.length + body.length);
            System.arraycopy(body, 0, message, h.length, body.length);
            out.write(message);
            out.flush();
            readLine(); // status line
            headers = new HashMap<>();
            for (String line = readLine(); !line.isEmpty(); line = readLine()) {
                int colon = line.indexOf(':');
                if (colon > 0) headers.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] data = in.readNBytes(length);
            if (data.length < length) closed();
            return data;
        }

        private String readLine() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) closed();
                if (c != '\r') line.append((char) c);
            }
            return line.toString();
        }

        private static void closed() {
            if (training) System.exit(0); // Train's Runtime API is done: exit normally so the JVM writes its CDS archive
            Runtime.getRuntime().halt(1); // the worker closed the Runtime API: this environment is over
        }
    }

    static final class KilnLogger implements LambdaLogger {
        @Override
        public void log(String message) {
            System.out.print(message);
            System.out.flush();
        }

        @Override
        public void log(byte[] message) {
            System.out.write(message, 0, message.length);
            System.out.flush();
        }
    }

    static final class KilnContext implements Context {
        private static final LambdaLogger LOGGER = new KilnLogger();
        private final Map<String, String> headers;
        private final long deadlineMs;
        private final ClientContext clientContext;

        KilnContext(Map<String, String> headers) {
            this.headers = headers;
            this.deadlineMs = Long.parseLong(headers.getOrDefault("lambda-runtime-deadline-ms", "0"));
            this.clientContext = clientContext(headers.get("lambda-runtime-client-context"));
        }

        @Override public String getAwsRequestId() { return headers.get("lambda-runtime-aws-request-id"); }
        @Override public String getLogGroupName() { return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME"); }
        @Override public String getLogStreamName() { return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME"); }
        @Override public String getFunctionName() { return System.getenv("AWS_LAMBDA_FUNCTION_NAME"); }
        @Override public String getFunctionVersion() { return System.getenv("AWS_LAMBDA_FUNCTION_VERSION"); }
        @Override public String getInvokedFunctionArn() { return headers.get("lambda-runtime-invoked-function-arn"); }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return clientContext; }
        @Override public int getRemainingTimeInMillis() { return (int) Math.max(deadlineMs - System.currentTimeMillis(), 0); }
        @Override public int getMemoryLimitInMB() { return Integer.parseInt(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")); }
        @Override public LambdaLogger getLogger() { return LOGGER; }

        @SuppressWarnings("unchecked")
        private static ClientContext clientContext(String raw) {
            if (raw == null || raw.isEmpty()) return null;
            Map<String, Object> parsed;
            try {
                parsed = (Map<String, Object>) Json.parse(raw);
            } catch (RuntimeException e) {
                return null;
            }
            Map<String, Object> client = parsed.get("client") instanceof Map ? (Map<String, Object>) parsed.get("client") : Map.of();
            return new ClientContext() {
                @Override public Client getClient() {
                    return new Client() {
                        @Override public String getInstallationId() { return (String) client.get("installation_id"); }
                        @Override public String getAppTitle() { return (String) client.get("app_title"); }
                        @Override public String getAppVersionName() { return (String) client.get("app_version_name"); }
                        @Override public String getAppVersionCode() { return (String) client.get("app_version_code"); }
                        @Override public String getAppPackageName() { return (String) client.get("app_package_name"); }
                    };
                }
                @Override public Map<String, String> getCustom() { return (Map<String, String>) parsed.get("custom"); }
                @Override public Map<String, String> getEnvironment() { return (Map<String, String>) parsed.get("env"); }
            };
        }
    }

    /** The resolved handler: how one event becomes one response. */
    interface Handler {
        byte[] invoke(byte[] event, Context context) throws Throwable;
    }

    // Anonymous classes, not lambdas, here and below (and string concatenation compiled inline, javabuild.py):
    // a lambda's or an indy concatenation's first use spins method-handle classes, milliseconds of every cold start.
    private static final java.io.FilenameFilter JARS = new java.io.FilenameFilter() {
        @Override
        public boolean accept(File dir, String name) {
            return name.endsWith(".jar");
        }
    };

    static ClassLoader functionLoader(String taskRoot, String opt) throws Exception {
        List<File> jars = new ArrayList<>();
        for (String dir : new String[] {taskRoot + "/lib", opt + "/java/lib"}) {
            File[] found = new File(dir).listFiles(JARS);
            if (found == null) continue;
            Arrays.sort(found);
            jars.addAll(Arrays.asList(found));
        }
        List<URL> urls = new ArrayList<>();
        File compiled = compileSources(new File(taskRoot), jars);
        if (compiled != null) urls.add(compiled.toURI().toURL());
        urls.add(new File(taskRoot).toURI().toURL());
        for (File jar : jars) urls.add(jar.toURI().toURL());
        return new FunctionLoader(urls.toArray(new URL[0]), Bootstrap.class.getClassLoader());
    }

    /**
     * The function's class loader: its classes and jars over the JDK's (the platform loader), with the classes of
     * Kiln's own packages ({@code com.amazonaws.services.lambda.runtime} as aws-lambda-java-core has them, and
     * {@code kiln}) taken from the bootstrap first, so a fat jar bundling aws-lambda-java-core still gets the
     * interfaces Kiln calls it through; a class of those packages Kiln lacks comes from the function.
     * Not the application loader as its parent: every other class's lookup would first search the bootstrap's jar
     * (opening it costs a cold start ~4 ms). No permissions are computed for the function's code sources (with no
     * security manager none is ever checked; computing them loads the JDK's security properties, ~3 ms).
     */
    static final class FunctionLoader extends URLClassLoader {
        private final ClassLoader runtime;

        FunctionLoader(URL[] urls, ClassLoader runtime) {
            super(urls, ClassLoader.getPlatformClassLoader());
            this.runtime = runtime;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            int dot = name.lastIndexOf('.');
            String pkg = dot < 0 ? "" : name.substring(0, dot);
            if (pkg.equals("kiln") || pkg.equals("com.amazonaws.services.lambda.runtime") || pkg.equals("com.amazonaws.services.lambda.runtime.logging")) {
                try {
                    return runtime.loadClass(name);
                } catch (ClassNotFoundException e) {
                    // not one of Kiln's: the function's own copy, below
                }
            }
            return super.loadClass(name, resolve);
        }

        @Override
        protected java.security.PermissionCollection getPermissions(java.security.CodeSource source) {
            return new java.security.Permissions();
        }
    }

    private static void walk(File dir, List<File> sources, boolean[] classes) {
        File[] entries = dir.listFiles();
        if (entries == null) return;
        for (File entry : entries) {
            if (entry.isDirectory()) walk(entry, sources, classes);
            else if (entry.getName().endsWith(".java")) sources.add(entry);
            else if (entry.getName().endsWith(".class")) classes[0] = true;
        }
    }

    /**
     * A package of Java sources only (the console's inline editor writes those) is compiled at init with the
     * JDK's compiler into the private /tmp; a package with classes (a zip of classes, a fat jar) is run as it is.
     */
    static File compileSources(File taskRoot, List<File> jars) throws Exception {
        List<File> sources = new ArrayList<>();
        boolean[] classes = {false};
        walk(taskRoot, sources, classes);
        if (sources.isEmpty() || classes[0]) return null;
        javax.tools.JavaCompiler compiler = javax.tools.ToolProvider.getSystemJavaCompiler();
        if (compiler == null) throw new InitFailure("Runtime.InvalidEntrypoint", "The function's package holds Java sources and this JDK has no compiler; upload compiled classes");
        File out = new File(System.getProperty("java.io.tmpdir"), ".kiln-java-classes");
        out.mkdirs();
        StringBuilder classpath = new StringBuilder(System.getProperty("java.class.path"));
        for (File jar : jars) classpath.append(File.pathSeparator).append(jar.getPath());
        List<String> arguments = new ArrayList<>(Arrays.asList("-d", out.getPath(), "-cp", classpath.toString(), "-encoding", "UTF-8", "-nowarn", "-proc:none"));
        for (File source : sources) arguments.add(source.getPath());
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int status = compiler.run(null, diagnostics, diagnostics, arguments.toArray(new String[0]));
        if (status != 0) throw new InitFailure("Runtime.UserCodeSyntaxError", diagnostics.toString(StandardCharsets.UTF_8).trim());
        return out;
    }

    static Handler load(String spec, ClassLoader loader) throws Throwable {
        int colons = spec.indexOf("::");
        String className = colons >= 0 ? spec.substring(0, colons) : spec;
        String methodName = colons >= 0 ? spec.substring(colons + 2) : null;
        if (className.isEmpty() || (methodName != null && methodName.isEmpty())) {
            throw new InitFailure("Runtime.MalformedHandlerName", "Invalid handler " + spec + ": expected package.Class::method or package.Class");
        }
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new InitFailure("java.lang.ClassNotFoundException", "Class not found: " + className);
        } catch (ExceptionInInitializerError e) {
            throw e.getCause() != null ? e.getCause() : e;
        }
        if (methodName == null) {
            if (RequestStreamHandler.class.isAssignableFrom(cls)) {
                RequestStreamHandler handler = (RequestStreamHandler) instance(cls);
                return new Handler() {
                    @Override
                    public byte[] invoke(byte[] event, Context context) throws Throwable {
                        ByteArrayOutputStream out = new ByteArrayOutputStream();
                        handler.handleRequest(new ByteArrayInputStream(event), out, context);
                        return out.toByteArray();
                    }
                };
            }
            if (RequestHandler.class.isAssignableFrom(cls)) {
                @SuppressWarnings("unchecked")
                RequestHandler<Object, Object> handler = (RequestHandler<Object, Object>) instance(cls);
                Type input = inputType(cls);
                return new Handler() {
                    @Override
                    public byte[] invoke(byte[] event, Context context) throws Throwable {
                        return output(handler.handleRequest(input(event, input), context));
                    }
                };
            }
            throw new InitFailure("Runtime.HandlerNotFound", "Class " + className + " does not implement RequestHandler or RequestStreamHandler; name a method: " + className + "::handleRequest");
        }
        Method best = null;
        for (Method method : cls.getMethods()) {
            if (method.getName().equals(methodName) && !method.isBridge() && method.getParameterCount() <= 3 && (best == null || method.getParameterCount() > best.getParameterCount())) best = method;
        }
        if (best == null) throw new InitFailure("Runtime.HandlerNotFound", "No public method named " + methodName + " in class " + className);
        Method method = best;
        Object target = Modifier.isStatic(method.getModifiers()) ? null : instance(cls);
        Class<?>[] types = method.getParameterTypes();
        boolean stream = types.length >= 2 && types[0] == InputStream.class && types[1] == OutputStream.class;
        return new Handler() {
          @Override
          public byte[] invoke(byte[] event, Context context) throws Throwable {
            try {
                if (stream) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    Object[] args = types.length == 3 ? new Object[] {new ByteArrayInputStream(event), out, context} : new Object[] {new ByteArrayInputStream(event), out};
                    method.invoke(target, args);
                    return out.toByteArray();
                }
                Object[] args = new Object[types.length];
                for (int i = 0; i < types.length; i++) {
                    args[i] = Context.class.isAssignableFrom(types[i]) ? context : input(event, method.getGenericParameterTypes()[i]);
                }
                Object result = method.invoke(target, args);
                return method.getReturnType() == void.class ? "null".getBytes(StandardCharsets.UTF_8) : output(result);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
          }
        };
    }

    private static Object instance(Class<?> cls) throws Throwable {
        try {
            return cls.getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } catch (NoSuchMethodException e) {
            throw new InitFailure("Runtime.HandlerNotFound", "Class " + cls.getName() + " has no public constructor without arguments");
        }
    }

    /** The {@code I} of {@code RequestHandler<I, O>} as {@code cls} (or a superclass) binds it. */
    private static Type inputType(Class<?> cls) {
        for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
            for (Type t : c.getGenericInterfaces()) {
                if (t instanceof ParameterizedType && ((ParameterizedType) t).getRawType() == RequestHandler.class) {
                    Type input = ((ParameterizedType) t).getActualTypeArguments()[0];
                    return input instanceof TypeVariable ? Object.class : input;
                }
            }
        }
        return Object.class;
    }

    private static Object input(byte[] event, Type type) throws ReflectiveOperationException {
        if (type == InputStream.class) return new ByteArrayInputStream(event);
        if (type == byte[].class) return event;
        String text = new String(event, StandardCharsets.UTF_8);
        return Json.convert(text.isBlank() ? null : Json.parse(text), type);
    }

    private static byte[] output(Object result) {
        return Json.write(result).getBytes(StandardCharsets.UTF_8);
    }

    /** Lambda's Java error shape: errorMessage, errorType, stackTrace (the function's frames), cause. */
    static Map<String, Object> errorObject(Throwable error) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("errorMessage", error.getMessage() == null ? error.toString() : error.getMessage());
        out.put("errorType", error.getClass().getName());
        List<String> frames = new ArrayList<>();
        for (StackTraceElement frame : error.getStackTrace()) {
            String owner = frame.getClassName();
            if (owner.startsWith("kiln.") || owner.startsWith("jdk.internal.reflect.") || owner.startsWith("java.lang.reflect.")) break;
            frames.add(frame.toString());
        }
        out.put("stackTrace", frames);
        if (error.getCause() != null && error.getCause() != error) out.put("cause", errorObject(error.getCause()));
        return out;
    }

    private static void printError(PrintStream out, Map<String, Object> error) {
        out.println(Json.write(error));
        out.flush();
    }

    /**
     * Put a prewarmed JVM's function environment where {@code System.getenv} and child processes read it:
     * the JDK's own table of the process environment (a spare runs as {@code -jar}, whose manifest opens
     * {@code java.lang} to it). A JVM held only for its /tmp started with that environment already: nothing differs,
     * nothing is written (it runs on the class path, without that opening).
     */
    @SuppressWarnings("unchecked")
    static void setenv(Map<String, Object> configuration) throws ReflectiveOperationException {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : configuration.entrySet()) {
            if (!String.valueOf(entry.getValue()).equals(System.getenv(entry.getKey()))) values.put(entry.getKey(), entry.getValue());
        }
        if (values.isEmpty()) return;
        Class<?> environment = Class.forName("java.lang.ProcessEnvironment");
        java.lang.reflect.Field table = environment.getDeclaredField("theEnvironment");
        table.setAccessible(true);
        Map<Object, Object> map = (Map<Object, Object>) table.get(null);
        Method variable = Class.forName("java.lang.ProcessEnvironment$Variable").getDeclaredMethod("valueOf", String.class);
        Method value = Class.forName("java.lang.ProcessEnvironment$Value").getDeclaredMethod("valueOf", String.class);
        variable.setAccessible(true);
        value.setAccessible(true);
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            map.put(variable.invoke(null, entry.getKey()), value.invoke(null, String.valueOf(entry.getValue())));
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--train")) { // Kiln's build: the run that writes the class-data archive
            Train.main(args);
            return;
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) options.put(args[i], args[i + 1]);
        RuntimeClient client = new RuntimeClient(System.getenv("AWS_LAMBDA_RUNTIME_API"), options.get("--runtime-fd"));
        if (options.containsKey("--prewarmed")) { // started ahead of need: wait for the function's environment
            if (options.containsKey("--warm")) Warm.run(); // meanwhile run once the code every first event goes through
            byte[] body = client.request("GET", API + "/kiln/configuration", new byte[0], Map.of());
            @SuppressWarnings("unchecked")
            Map<String, Object> configuration = (Map<String, Object>) Json.parse(new String(body, StandardCharsets.UTF_8));
            setenv(configuration);
        }
        String taskRoot = System.getenv().getOrDefault("LAMBDA_TASK_ROOT", "/var/task");
        String spec = System.getenv().getOrDefault("_HANDLER", "");
        Handler handler;
        try {
            ClassLoader loader = functionLoader(taskRoot, options.getOrDefault("--opt", "/opt"));
            Thread.currentThread().setContextClassLoader(loader);
            handler = load(spec, loader);
        } catch (Throwable e) {
            Map<String, Object> error;
            if (e instanceof InitFailure) {
                error = new LinkedHashMap<>();
                error.put("errorMessage", e.getMessage());
                error.put("errorType", ((InitFailure) e).type);
            } else {
                error = errorObject(e);
            }
            printError(System.out, error);
            client.request("POST", API + "/init/error", Json.write(error).getBytes(StandardCharsets.UTF_8), Map.of("Lambda-Runtime-Function-Error-Type", String.valueOf(error.get("errorType"))));
            System.exit(1);
            return;
        }
        while (true) {
            byte[] event = client.request("GET", API + "/invocation/next", new byte[0], Map.of());
            Map<String, String> headers = client.headers;
            String requestId = headers.get("lambda-runtime-aws-request-id");
            System.setProperty("com.amazonaws.xray.traceHeader", headers.getOrDefault("lambda-runtime-trace-id", ""));
            byte[] payload;
            String route;
            Map<String, String> extra = Map.of();
            try {
                payload = handler.invoke(event, new KilnContext(headers));
                route = "response";
            } catch (Throwable e) {
                Map<String, Object> error = errorObject(e);
                printError(System.out, error);
                payload = Json.write(error).getBytes(StandardCharsets.UTF_8);
                route = "error";
                extra = Map.of("Lambda-Runtime-Function-Error-Type", "Unhandled");
            }
            System.err.flush();
            System.out.flush();
            System.out.write(END_MARKER, 0, END_MARKER.length);
            System.out.flush();
            client.request("POST", API + "/invocation/" + requestId + "/" + route, payload, extra);
        }
    }
}
