package kiln;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.Parameter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A small JSON codec for handler input and output, in the manner of Lambda's Java serializer (Jackson):
 * objects become {@code Map}s, {@code List}s or POJOs (setters or fields, names matched case-insensitively,
 * unknown properties ignored); output is written from maps, collections, arrays and POJO getters/fields.
 *
 * <p>As Lambda's serializer does for the aws-lambda-java-events classes (its mixins and modules): names differing
 * from their JSON keys only in case ({@code Records}, {@code eventSourceARN}, {@code S}) match, a {@code Date} in
 * an event class is epoch seconds ({@code ApproximateCreationDateTime}; in other POJOs epoch milliseconds, or an
 * ISO-8601 string, as Jackson takes it), {@code ByteBuffer} and {@code byte[]} are base64, a string becomes a
 * type with a {@code parse}/{@code valueOf}/{@code fromString} factory or a {@code String} constructor (Joda's
 * {@code DateTime}, {@code Instant}, {@code UUID}), and the S3 notification classes, which have only
 * constructors, are built through them with the parameter names Lambda's S3 serializer uses ({@link #CREATORS}).
 */
final class Json {
    private Json() {}

    private static final String[] EVENT_PACKAGES = {"com.amazonaws.services.lambda.runtime.events.", "com.amazonaws.services.s3.event.",
        "com.amazonaws.services.dynamodbv2.model."};
    private static final String[] S3_NOTIFICATIONS = {"com.amazonaws.services.lambda.runtime.events.models.s3.S3EventNotification",
        "com.amazonaws.services.s3.event.S3EventNotification"};

    /** The JSON keys of the constructor parameters of the S3 notification classes (those have no setters). */
    static final Map<String, String[]> CREATORS = new LinkedHashMap<>();

    static {
        for (String outer : S3_NOTIFICATIONS) {
            CREATORS.put(outer, new String[] {"Records"});
            CREATORS.put(outer + "$S3EventNotificationRecord", new String[] {"awsRegion", "eventName", "eventSource", "eventTime", "eventVersion",
                "requestParameters", "responseElements", "s3", "userIdentity"});
            CREATORS.put(outer + "$S3Entity", new String[] {"configurationId", "bucket", "object", "s3SchemaVersion"});
            CREATORS.put(outer + "$S3BucketEntity", new String[] {"name", "ownerIdentity", "arn"});
            CREATORS.put(outer + "$S3ObjectEntity", new String[] {"key", "size", "eTag", "versionId", "sequencer"});
            CREATORS.put(outer + "$UserIdentityEntity", new String[] {"principalId"});
            CREATORS.put(outer + "$RequestParametersEntity", new String[] {"sourceIPAddress"});
            CREATORS.put(outer + "$ResponseElementsEntity", new String[] {"x-amz-id-2", "x-amz-request-id"});
        }
        CREATORS.put("com.amazonaws.services.lambda.runtime.events.S3Event", new String[] {"Records"});
    }

    static boolean eventClass(Class<?> raw) {
        for (String prefix : EVENT_PACKAGES) {
            if (raw.getName().startsWith(prefix)) return true;
        }
        return false;
    }

    // -- parsing ---------------------------------------------------------------------------------------
    static Object parse(String text) {
        Parser parser = new Parser(text);
        parser.space();
        Object value = parser.value();
        parser.space();
        if (parser.at < text.length()) throw new IllegalArgumentException("Unexpected character at " + parser.at + " of the JSON input");
        return value;
    }

    private static final class Parser {
        final String s;
        int at;

        Parser(String s) {
            this.s = s;
        }

        void space() {
            while (at < s.length() && " \t\r\n".indexOf(s.charAt(at)) >= 0) at++;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at " + at + " of the JSON input");
        }

        Object value() {
            if (at >= s.length()) throw error("Unexpected end");
            char c = s.charAt(at);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default: return number();
            }
        }

        Object literal(String word, Object value) {
            if (!s.startsWith(word, at)) throw error("Unexpected token");
            at += word.length();
            return value;
        }

        Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            space();
            if (at < s.length() && s.charAt(at) == '}') {
                at++;
                return map;
            }
            while (true) {
                space();
                if (at >= s.length() || s.charAt(at) != '"') throw error("Expected a property name");
                String key = string();
                space();
                if (at >= s.length() || s.charAt(at) != ':') throw error("Expected ':'");
                at++;
                space();
                map.put(key, value());
                space();
                if (at >= s.length()) throw error("Unexpected end");
                char c = s.charAt(at++);
                if (c == '}') return map;
                if (c != ',') throw error("Expected ',' or '}'");
            }
        }

        List<Object> array() {
            List<Object> list = new ArrayList<>();
            at++;
            space();
            if (at < s.length() && s.charAt(at) == ']') {
                at++;
                return list;
            }
            while (true) {
                space();
                list.add(value());
                space();
                if (at >= s.length()) throw error("Unexpected end");
                char c = s.charAt(at++);
                if (c == ']') return list;
                if (c != ',') throw error("Expected ',' or ']'");
            }
        }

        String string() {
            StringBuilder out = new StringBuilder();
            at++;
            while (true) {
                if (at >= s.length()) throw error("Unterminated string");
                char c = s.charAt(at++);
                if (c == '"') return out.toString();
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = s.charAt(at++);
                switch (e) {
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    case 'u': out.append((char) Integer.parseInt(s.substring(at, at + 4), 16)); at += 4; break;
                    default: out.append(e);
                }
            }
        }

        Object number() {
            int start = at;
            while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) at++;
            String text = s.substring(start, at);
            if (text.isEmpty()) throw error("Unexpected character");
            if (text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0) {
                BigInteger big = new BigInteger(text);
                return big.bitLength() < 64 ? (Object) big.longValue() : big;
            }
            return Double.parseDouble(text);
        }
    }

    // -- conversion to the handler's input type -------------------------------------------------------
    static Object convert(Object value, Type type) throws ReflectiveOperationException {
        return convert(value, type, false);
    }

    /** {@code value} (parsed JSON) as {@code type}; {@code event}: inside an aws-lambda-java-events class. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Object convert(Object value, Type type, boolean event) throws ReflectiveOperationException {
        Class<?> raw = rawClass(type);
        if (value == null) return raw.isPrimitive() ? convert(0L, type, event) : null;
        if (raw == Object.class) return value;
        if (raw == String.class) return value instanceof String ? value : write(value);
        if (raw == boolean.class || raw == Boolean.class) return value instanceof Boolean ? value : Boolean.parseBoolean(value.toString());
        if (raw == char.class || raw == Character.class) return value.toString().isEmpty() ? '\0' : value.toString().charAt(0);
        if (raw.isPrimitive() || Number.class.isAssignableFrom(raw)) return number(value, raw);
        if (raw.isEnum()) return Enum.valueOf((Class<Enum>) raw, value.toString());
        if (raw == byte[].class && value instanceof String) return Base64.getMimeDecoder().decode((String) value);
        if (raw == ByteBuffer.class && value instanceof String) return ByteBuffer.wrap(Base64.getMimeDecoder().decode((String) value));
        if (raw == Date.class) return date(value, event);
        if (value instanceof String && !Map.class.isAssignableFrom(raw) && !Collection.class.isAssignableFrom(raw) && !raw.isArray()) {
            Object made = fromString(raw, (String) value);
            if (made != null) return made;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!(value instanceof Map)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
            Type valueType = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[1] : Object.class;
            Map<String, Object> out = raw.isInterface() || Modifier.isAbstract(raw.getModifiers()) ? new LinkedHashMap<>() : (Map<String, Object>) newInstance(raw);
            for (Map.Entry<String, Object> entry : ((Map<String, Object>) value).entrySet()) out.put(entry.getKey(), convert(entry.getValue(), valueType, event));
            return out;
        }
        if (raw.isArray() || Collection.class.isAssignableFrom(raw)) {
            if (!(value instanceof List)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
            List<Object> items = (List<Object>) value;
            if (raw.isArray()) {
                Type component = type instanceof GenericArrayType ? ((GenericArrayType) type).getGenericComponentType() : raw.getComponentType();
                Object array = Array.newInstance(rawClass(component), items.size());
                for (int i = 0; i < items.size(); i++) Array.set(array, i, convert(items.get(i), component, event));
                return array;
            }
            Type itemType = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[0] : Object.class;
            Collection<Object> out;
            if (!raw.isInterface() && !Modifier.isAbstract(raw.getModifiers())) out = (Collection<Object>) newInstance(raw);
            else if (Set.class.isAssignableFrom(raw)) out = new LinkedHashSet<>();
            else out = new ArrayList<>();
            for (Object item : items) out.add(convert(item, itemType, event));
            return out;
        }
        if (!(value instanceof Map)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
        return pojo((Map<String, Object>) value, raw, event || eventClass(raw));
    }

    /** A {@code Date} from JSON: epoch seconds in an event class (Lambda's DateModule), else milliseconds; or ISO-8601. */
    private static Date date(Object value, boolean event) {
        if (value instanceof Number) {
            double n = ((Number) value).doubleValue();
            if (event) return n == 0.0 ? null : new Date((long) (n * 1000.0));
            return new Date(((Number) value).longValue());
        }
        String text = value.toString().trim();
        try {
            return Date.from(OffsetDateTime.parse(text).toInstant());
        } catch (RuntimeException notOffset) {
            try {
                return Date.from(Instant.parse(text));
            } catch (RuntimeException notInstant) {
                return date(new BigDecimal(text), event); // a number in a string, or the message of a NumberFormatException
            }
        }
    }

    /** A value of {@code raw} made from a string: a static parse/valueOf/fromString/fromValue or a String constructor. */
    private static Object fromString(Class<?> raw, String text) throws ReflectiveOperationException {
        for (String name : new String[] {"parse", "valueOf", "fromString", "fromValue"}) {
            for (Class<?> parameter : new Class<?>[] {String.class, CharSequence.class, Object.class}) {
                Method factory;
                try {
                    factory = raw.getMethod(name, parameter);
                } catch (NoSuchMethodException e) {
                    continue;
                }
                if (Modifier.isStatic(factory.getModifiers()) && raw.isAssignableFrom(factory.getReturnType())) return invoke(factory, null, text);
            }
        }
        try {
            Constructor<?> constructor = raw.getConstructor(String.class);
            return constructor.newInstance(text);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new IllegalArgumentException("Cannot deserialize \"" + text + "\" as " + raw.getName() + ": " + e.getCause(), e.getCause());
        }
    }

    private static Object invoke(Method method, Object target, Object... args) throws ReflectiveOperationException {
        try {
            return method.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new IllegalArgumentException("Cannot deserialize " + Arrays.toString(args) + " with " + method + ": " + e.getCause(), e.getCause());
        }
    }

    private static String kind(Object value) {
        return value instanceof Map ? "a JSON object" : value instanceof List ? "a JSON array" : value instanceof String ? "a JSON string" : "a JSON " + value.getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }

    private static Object number(Object value, Class<?> raw) {
        BigDecimal n = value instanceof Number ? new BigDecimal(value.toString()) : value instanceof Boolean ? (((Boolean) value) ? BigDecimal.ONE : BigDecimal.ZERO) : new BigDecimal(value.toString().trim());
        if (raw == int.class || raw == Integer.class) return n.intValue();
        if (raw == long.class || raw == Long.class) return n.longValue();
        if (raw == double.class || raw == Double.class) return n.doubleValue();
        if (raw == float.class || raw == Float.class) return n.floatValue();
        if (raw == short.class || raw == Short.class) return n.shortValue();
        if (raw == byte.class || raw == Byte.class) return n.byteValue();
        if (raw == BigInteger.class) return n.toBigInteger();
        if (raw == BigDecimal.class) return n;
        return value instanceof Number ? value : n;
    }

    private static Object newInstance(Class<?> raw) throws ReflectiveOperationException {
        Constructor<?> constructor = raw.getDeclaredConstructor();
        constructor.setAccessible(true);
        return constructor.newInstance();
    }

    /** The constructor to build {@code raw} with, and the JSON keys of its parameters; null: the no-argument one. */
    private static Map.Entry<Constructor<?>, String[]> creator(Class<?> raw) {
        String[] keys = CREATORS.get(raw.getName());
        for (Constructor<?> constructor : raw.getConstructors()) {
            if (keys != null && constructor.getParameterCount() == keys.length) return Map.entry(constructor, keys);
        }
        if (keys != null) return null;
        try {
            raw.getDeclaredConstructor();
            return null;
        } catch (NoSuchMethodException e) {
            // no constructor without arguments: one whose parameter names were compiled in (javac -parameters)
        }
        Constructor<?> best = null;
        for (Constructor<?> constructor : raw.getConstructors()) {
            Parameter[] parameters = constructor.getParameters();
            if (parameters.length > 0 && parameters[0].isNamePresent() && (best == null || parameters.length > best.getParameterCount())) best = constructor;
        }
        if (best == null) return null;
        String[] names = new String[best.getParameterCount()];
        for (int i = 0; i < names.length; i++) names[i] = best.getParameters()[i].getName();
        return Map.entry(best, names);
    }

    private static Object pojo(Map<String, Object> values, Class<?> raw, boolean event) throws ReflectiveOperationException {
        Map.Entry<Constructor<?>, String[]> creator = creator(raw);
        Object target;
        Set<String> used = new HashSet<>();
        if (creator == null) {
            target = newInstance(raw);
        } else {
            Map<String, Object> byName = new LinkedHashMap<>();
            for (Map.Entry<String, Object> entry : values.entrySet()) byName.putIfAbsent(entry.getKey().toLowerCase(Locale.ROOT), entry.getValue());
            Constructor<?> constructor = creator.getKey();
            String[] keys = creator.getValue();
            Type[] types = constructor.getGenericParameterTypes();
            Object[] args = new Object[keys.length];
            for (int i = 0; i < keys.length; i++) {
                String key = keys[i].toLowerCase(Locale.ROOT);
                used.add(key);
                args[i] = convert(byName.get(key), types[i], event);
            }
            try {
                target = constructor.newInstance(args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw new IllegalArgumentException("Cannot deserialize " + raw.getName() + ": " + e.getCause(), e.getCause());
            }
        }
        Map<String, Method> setters = new LinkedHashMap<>();
        for (Method method : raw.getMethods()) {
            if (method.getName().startsWith("set") && method.getName().length() > 3 && method.getParameterCount() == 1 && !Modifier.isStatic(method.getModifiers())) {
                setters.putIfAbsent(method.getName().substring(3).toLowerCase(Locale.ROOT), method);
            }
        }
        Map<String, Field> fields = new LinkedHashMap<>();
        for (Class<?> c = raw; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers()) && !Modifier.isTransient(field.getModifiers())) fields.putIfAbsent(field.getName().toLowerCase(Locale.ROOT), field);
            }
        }
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            String key = entry.getKey().toLowerCase(Locale.ROOT);
            if (used.contains(key)) continue;
            key = key.replace("-", ""); // "detail-type" is detailType, as Lambda's ScheduledEvent mixin maps it
            Method setter = setters.get(key);
            if (setter != null) {
                setter.invoke(target, convert(entry.getValue(), setter.getGenericParameterTypes()[0], event));
                continue;
            }
            Field field = fields.get(key);
            if (field != null && !Modifier.isFinal(field.getModifiers())) {
                field.setAccessible(true);
                field.set(target, convert(entry.getValue(), field.getGenericType(), event));
            }
        }
        return target;
    }

    static Class<?> rawClass(Type type) {
        if (type instanceof Class) return (Class<?>) type;
        if (type instanceof ParameterizedType) return (Class<?>) ((ParameterizedType) type).getRawType();
        if (type instanceof GenericArrayType) return Array.newInstance(rawClass(((GenericArrayType) type).getGenericComponentType()), 0).getClass();
        return Object.class;
    }

    // -- writing ------------------------------------------------------------------------------------------
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out, new HashSet<>(), false);
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static void write(Object value, StringBuilder out, Set<Integer> seen, boolean event) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Date) { // epoch seconds in an event class (Lambda's DateModule), else milliseconds (Jackson's default)
            long millis = ((Date) value).getTime();
            out.append(event ? BigDecimal.valueOf(millis).movePointLeft(3).stripTrailingZeros().toPlainString() : String.valueOf(millis));
        } else if (value instanceof byte[]) {
            string(Base64.getEncoder().encodeToString((byte[]) value), out);
        } else if (value instanceof ByteBuffer) {
            ByteBuffer buffer = ((ByteBuffer) value).duplicate();
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            string(Base64.getEncoder().encodeToString(bytes), out);
        } else if (value.getClass().getName().startsWith("org.joda.time.") || value.getClass().getName().startsWith("java.time.")) {
            string(value.toString(), out); // ISO-8601, as Lambda's DateTimeModule writes Joda's DateTime
        } else if (value instanceof CharSequence || value instanceof Character || value instanceof Enum) {
            string(value instanceof Enum ? ((Enum<?>) value).name() : value.toString(), out);
        } else if (value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Number) {
            double d = ((Number) value).doubleValue();
            out.append(Double.isNaN(d) || Double.isInfinite(d) ? "null" : value instanceof BigDecimal ? ((BigDecimal) value).toPlainString() : value.toString());
        } else if (value instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<Object, Object> entry : ((Map<Object, Object>) value).entrySet()) {
                if (!first) out.append(',');
                first = false;
                string(String.valueOf(entry.getKey()), out);
                out.append(':');
                write(entry.getValue(), out, seen, event);
            }
            out.append('}');
        } else if (value instanceof Iterable) {
            out.append('[');
            boolean first = true;
            for (Object item : (Iterable<Object>) value) {
                if (!first) out.append(',');
                first = false;
                write(item, out, seen, event);
            }
            out.append(']');
        } else if (value.getClass().isArray()) {
            out.append('[');
            for (int i = 0; i < Array.getLength(value); i++) {
                if (i > 0) out.append(',');
                write(Array.get(value, i), out, seen, event);
            }
            out.append(']');
        } else {
            int identity = System.identityHashCode(value);
            if (!seen.add(identity)) throw new IllegalArgumentException("Unable to serialize a cycle through " + value.getClass().getName());
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> property : properties(value).entrySet()) {
                if (!first) out.append(',');
                first = false;
                string(property.getKey(), out);
                out.append(':');
                write(property.getValue(), out, seen, event || eventClass(value.getClass()));
            }
            out.append('}');
            seen.remove(identity);
        }
    }

    /** A POJO's properties: its public getters ({@code getX}, {@code isX}), then its public fields. */
    private static Map<String, Object> properties(Object value) {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            for (Method method : value.getClass().getMethods()) {
                String name = method.getName();
                if (method.getParameterCount() != 0 || Modifier.isStatic(method.getModifiers()) || method.getDeclaringClass() == Object.class) continue;
                String property = name.startsWith("get") && name.length() > 3 ? name.substring(3)
                        : name.startsWith("is") && name.length() > 2 && (method.getReturnType() == boolean.class || method.getReturnType() == Boolean.class) ? name.substring(2) : null;
                if (property == null) continue;
                method.setAccessible(true);
                out.put(Character.toLowerCase(property.charAt(0)) + property.substring(1), method.invoke(value));
            }
            for (Field field : value.getClass().getFields()) {
                if (!Modifier.isStatic(field.getModifiers())) out.putIfAbsent(field.getName(), field.get(value));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("Unable to serialize " + value.getClass().getName() + ": " + e, e);
        }
        return out;
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                default:
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
            }
        }
        out.append('"');
    }
}
