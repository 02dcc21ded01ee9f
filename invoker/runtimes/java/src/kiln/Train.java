package kiln;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Run once when Kiln builds its Java bootstrap ({@code java -XX:ArchiveClassesAtExit=... -jar bootstrap.jar --train}): a prewarmed bootstrap's
 * whole life (warm-up, configuration, handler, one event, its response) against a Runtime API served here, so
 * every class that life loads goes into Kiln's application class-data archive and a JVM started with it maps
 * them instead of loading, parsing and verifying them again.
 */
public final class Train {
    private Train() {}

    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread api = new Thread(() -> serve(server), "kiln-train-api");
        api.setDaemon(true);
        api.start();
        Bootstrap.setenv(Map.of("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + server.getLocalPort()));
        Bootstrap.training = true;
        Bootstrap.RuntimeClient.descriptor(2); // the classes that adopt a handed connection (not used here: it has none)
        Bootstrap.main(new String[] {"--opt", "/nonexistent", "--prewarmed", "1", "--warm", "1"});
    }

    private static void serve(ServerSocket server) {
        try (Socket socket = server.accept()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = socket.getOutputStream();
            String probe = Warm.probeDirectory();
            respond(in, out, "{\"_HANDLER\":\"kilnwarm.Probe::handleRequest\",\"LAMBDA_TASK_ROOT\":\"" + probe + "\"}", "");
            respond(in, out, "{\"key\":\"value\"}", "Lambda-Runtime-Aws-Request-Id: train\r\nLambda-Runtime-Deadline-Ms: " + (System.currentTimeMillis() + 60000)
                    + "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:train\r\n");
            request(in); // the response: then the Runtime API closes, and Bootstrap exits
        } catch (Exception e) {
            System.exit(2);
        }
    }

    private static void respond(BufferedReader in, OutputStream out, String body, String headers) throws Exception {
        request(in);
        byte[] data = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + data.length + "\r\n" + headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(data);
        out.flush();
    }

    private static void request(BufferedReader in) throws Exception {
        int length = 0;
        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        for (int i = 0; i < length; i++) in.read();
    }
}
