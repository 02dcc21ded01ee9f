package kiln;

import java.io.File;
import java.lang.invoke.CallSite;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.StringConcatFactory;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A prewarmed JVM's warm-up: before it blocks waiting for its function, it runs once, in-process, the code a
 * first event goes through (the function's class loader, handler resolution of each kind, JSON in and out, the
 * context, an error's shape), with the handlers of {@code kilnwarm.Probe}, compiled as a user's class is into
 * {@code probe/} beside the bootstrap's jar (not on its class path) and loaded through a function class loader.
 * What is loaded, linked and bootstrapped then (indy call sites, reflection's accessors) is not paid again by the
 * function's init and first event.
 * Nothing it does is visible to the function: it prints nothing, writes no file, sets no environment, keeps no
 * objects. Only a prewarmed JVM runs it ({@code --warm 1}): a runtime held for its /tmp is needed at once.
 */
final class Warm {
    private Warm() {}

    /** {@code probe/} beside the jar this JVM runs ({@code java -jar .../bootstrap.jar}). */
    static String probeDirectory() {
        return new File(new File(System.getProperty("java.class.path")).getAbsoluteFile().getParentFile(), "probe").getPath();
    }

    static void run() {
        try {
            exercise();
        } catch (Throwable ignored) { // a warm-up that fails only costs the function its speed
        }
    }

    /**
     * A string concatenation as javac compiles a function's ({@code "Event: " + event}: an invokedynamic call
     * site bootstrapped by {@code StringConcatFactory}), whose first use in a JVM spins its method-handle classes.
     */
    static void concatenate() throws Throwable {
        for (Class<?> type : new Class<?>[] {Object.class, String.class, int.class, long.class}) {
            MethodType shape = MethodType.methodType(String.class, String.class, type);
            CallSite site = StringConcatFactory.makeConcatWithConstants(MethodHandles.lookup(), "concat", shape, "Event: \u0001 \u0001");
            Object value = type == int.class ? (Object) 1 : type == long.class ? (Object) 1L : "x";
            site.dynamicInvoker().invoke("a", value);
        }
    }

    static void exercise() throws Throwable {
        ClassLoader loader = Bootstrap.functionLoader(probeDirectory(), "/nonexistent"); // no layers
        Map<String, String> headers = new HashMap<>();
        headers.put("lambda-runtime-aws-request-id", "00000000-0000-0000-0000-000000000000");
        headers.put("lambda-runtime-deadline-ms", String.valueOf(System.currentTimeMillis() + 1000));
        headers.put("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:warm");
        headers.put("lambda-runtime-client-context", "{\"client\":{\"installation_id\":\"w\"},\"custom\":{},\"env\":{}}");
        Bootstrap.KilnContext context = new Bootstrap.KilnContext(headers);
        byte[] map = "{\"key\":\"value\",\"n\":1,\"f\":1.5,\"list\":[true,null,\"x\"],\"nested\":{\"a\":[]}}".getBytes(StandardCharsets.UTF_8);
        byte[] records = "{\"Records\":[{\"eventSourceARN\":\"arn\",\"size\":3,\"isBase64Encoded\":false}]}".getBytes(StandardCharsets.UTF_8);
        Bootstrap.load("kilnwarm.Probe", loader).invoke(map, context);
        Bootstrap.load("kilnwarm.Probe::handleRequest", loader).invoke(map, context);
        Bootstrap.load("kilnwarm.Probe::records", loader).invoke(records, context);
        Bootstrap.load("kilnwarm.Probe::echo", loader).invoke("\"text\"".getBytes(StandardCharsets.UTF_8), context);
        Bootstrap.load("kilnwarm.Probe$Stream", loader).invoke(map, context);
        Bootstrap.errorObject(new IllegalStateException("warm", new RuntimeException("cause")));
        Json.write(Bootstrap.errorObject(new RuntimeException()));
        context.getClientContext();
        context.getLogger();
        Bootstrap.setenv(Map.of());
        concatenate();
        try {
            Bootstrap.load("kilnwarm.Missing", loader);
        } catch (Bootstrap.InitFailure expected) {
            // the handler-not-found path, as a mistyped handler takes it
        }
    }
}
