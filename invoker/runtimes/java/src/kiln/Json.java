package kiln;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
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
 */
final class Json {
    private Json() {}

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
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Object convert(Object value, Type type) throws ReflectiveOperationException {
        Class<?> raw = rawClass(type);
        if (value == null) return raw.isPrimitive() ? convert(0L, type) : null;
        if (raw == Object.class) return value;
        if (raw == String.class) return value instanceof String ? value : write(value);
        if (raw == boolean.class || raw == Boolean.class) return value instanceof Boolean ? value : Boolean.parseBoolean(value.toString());
        if (raw == char.class || raw == Character.class) return value.toString().isEmpty() ? '\0' : value.toString().charAt(0);
        if (raw.isPrimitive() || Number.class.isAssignableFrom(raw)) return number(value, raw);
        if (raw.isEnum()) return Enum.valueOf((Class<Enum>) raw, value.toString());
        if (Map.class.isAssignableFrom(raw)) {
            if (!(value instanceof Map)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
            Type valueType = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[1] : Object.class;
            Map<String, Object> out = raw.isInterface() || Modifier.isAbstract(raw.getModifiers()) ? new LinkedHashMap<>() : (Map<String, Object>) newInstance(raw);
            for (Map.Entry<String, Object> entry : ((Map<String, Object>) value).entrySet()) out.put(entry.getKey(), convert(entry.getValue(), valueType));
            return out;
        }
        if (raw.isArray() || Collection.class.isAssignableFrom(raw)) {
            if (!(value instanceof List)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
            List<Object> items = (List<Object>) value;
            if (raw.isArray()) {
                Type component = type instanceof GenericArrayType ? ((GenericArrayType) type).getGenericComponentType() : raw.getComponentType();
                Object array = Array.newInstance(rawClass(component), items.size());
                for (int i = 0; i < items.size(); i++) Array.set(array, i, convert(items.get(i), component));
                return array;
            }
            Type itemType = type instanceof ParameterizedType ? ((ParameterizedType) type).getActualTypeArguments()[0] : Object.class;
            Collection<Object> out;
            if (!raw.isInterface() && !Modifier.isAbstract(raw.getModifiers())) out = (Collection<Object>) newInstance(raw);
            else if (Set.class.isAssignableFrom(raw)) out = new LinkedHashSet<>();
            else out = new ArrayList<>();
            for (Object item : items) out.add(convert(item, itemType));
            return out;
        }
        if (!(value instanceof Map)) throw new IllegalArgumentException("Cannot deserialize " + kind(value) + " as " + raw.getName());
        return pojo((Map<String, Object>) value, raw);
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

    private static Object pojo(Map<String, Object> values, Class<?> raw) throws ReflectiveOperationException {
        Object target = newInstance(raw);
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
            Method setter = setters.get(key);
            if (setter != null) {
                setter.invoke(target, convert(entry.getValue(), setter.getGenericParameterTypes()[0]));
                continue;
            }
            Field field = fields.get(key);
            if (field != null && !Modifier.isFinal(field.getModifiers())) {
                field.setAccessible(true);
                field.set(target, convert(entry.getValue(), field.getGenericType()));
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
        write(value, out, new HashSet<>());
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static void write(Object value, StringBuilder out, Set<Integer> seen) {
        if (value == null) {
            out.append("null");
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
                write(entry.getValue(), out, seen);
            }
            out.append('}');
        } else if (value instanceof Iterable) {
            out.append('[');
            boolean first = true;
            for (Object item : (Iterable<Object>) value) {
                if (!first) out.append(',');
                first = false;
                write(item, out, seen);
            }
            out.append(']');
        } else if (value.getClass().isArray()) {
            out.append('[');
            for (int i = 0; i < Array.getLength(value); i++) {
                if (i > 0) out.append(',');
                write(Array.get(value, i), out, seen);
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
                write(property.getValue(), out, seen);
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
