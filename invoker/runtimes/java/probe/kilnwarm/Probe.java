package kilnwarm;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/**
 * Handlers of each kind Lambda's Java runtime takes, compiled as a user's are (string concatenation through
 * invokedynamic) into a directory of their own and loaded through the function's class loader, as a function is:
 * run by {@code kiln.Warm} in a prewarmed JVM and by {@code kiln.Train} when Kiln builds its class-data archive,
 * so the code a function's first event goes through is loaded already. They print nothing and keep no state.
 */
public final class Probe implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    /** A bean in the shape of the Lambda event classes (a list of records with setters). */
    public static final class Event {
        private List<Record> records;

        public List<Record> getRecords() { return records; }
        public void setRecords(List<Record> records) { this.records = records; }
    }

    /** One record of {@link Event}. */
    public static final class Record {
        private String eventSourceArn;
        private long size;
        private boolean base64;

        public String getEventSourceArn() { return eventSourceArn; }
        public void setEventSourceArn(String eventSourceArn) { this.eventSourceArn = eventSourceArn; }
        public long getSize() { return size; }
        public void setSize(long size) { this.size = size; }
        public boolean getIsBase64Encoded() { return base64; }
        public void setIsBase64Encoded(boolean base64) { this.base64 = base64; }
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        String line = "Event: " + event + " in " + context.getAwsRequestId() + " with " + context.getRemainingTimeInMillis() + " ms left";
        return Map.of("statusCode", 200, "body", "{\"length\": " + line.length() + "}");
    }

    /** A {@code Class::method} handler taking a bean. */
    public Event records(Event event, Context context) {
        return event;
    }

    /** A {@code Class::method} handler taking a string. */
    public static String echo(String text) {
        return text;
    }

    /** A stream handler. */
    public static final class Stream implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            input.transferTo(output);
        }
    }
}
