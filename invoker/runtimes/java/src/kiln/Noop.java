package kiln;

/** Does nothing: {@code make bench} times a bare JVM start with Kiln's bootstrap classes on the class path. */
public final class Noop {
    private Noop() {}

    public static void main(String[] args) {}
}
