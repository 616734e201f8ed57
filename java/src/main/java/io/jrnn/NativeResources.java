package io.jrnn;

import java.lang.ref.Cleaner;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The safety net for native memory: every object that owns native resources (tensors, executors,
 * CUDA buffers and streams, loaded models) registers here with one shared {@link Cleaner}. Closing
 * the object releases its resources at once; if it is garbage-collected without {@code close()},
 * the cleaner releases them and logs a WARNING once per class on the {@code io.jrnn.leaks} logger.
 * The creation site (a stack trace) is recorded only with {@code -Djrnn.debugLeaks=true}, since
 * capturing stacks costs.
 *
 * <p>The release action must never reference the owner (a lambda over the owner's fields, a bound
 * method reference to the owner, an inner-class instance): otherwise the owner stays reachable from
 * the cleaner and is never collected.
 *
 * <pre>{@code
 * private final NativeResources.Registration registration =
 *         NativeResources.register(this, pointer::close); // pointer, not this
 * public void close() { registration.close(); }
 * }</pre>
 */
public final class NativeResources {
    /** System property: record where each native-owning object was created, for the leak warning. */
    public static final String DEBUG_PROPERTY = "jrnn.debugLeaks";

    private static final System.Logger LOG = System.getLogger("io.jrnn.leaks");
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "jrnn-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    private static final AtomicLong LEAKS = new AtomicLong();

    private NativeResources() {
    }

    /**
     * Registers {@code owner}: {@code release} runs exactly once, at {@link Registration#close()} or
     * when the owner is garbage-collected. {@code release} must not reference {@code owner}.
     */
    public static Registration register(Object owner, Runnable release) {
        Throwable site = Boolean.getBoolean(DEBUG_PROPERTY)
                ? new Throwable("created at") : null;
        Action action = new Action(owner.getClass().getName(), release, site);
        return new Registration(action, CLEANER.register(owner, action));
    }

    /** Objects released by the cleaner (collected without close) since the JVM started. */
    public static long leakCount() {
        return LEAKS.get();
    }

    /** Forgets which classes were already warned about, so the next leak of each logs again (tests). */
    static void resetWarnings() {
        WARNED.clear();
    }

    /** An owner's registration; closing it releases the resources now (once; later closes do nothing). */
    public static final class Registration {
        private final Action action;
        private final Cleaner.Cleanable cleanable;

        private Registration(Action action, Cleaner.Cleanable cleanable) {
            this.action = action;
            this.cleanable = cleanable;
        }

        /** Releases now, without a warning; harmless when already released. */
        public void close() {
            action.explicit = true;
            cleanable.clean();
        }

        /** Whether the resources were released (by close or by the cleaner). */
        public boolean isReleased() {
            return action.done.get();
        }
    }

    /** The cleaning action: holds only the release and what the warning needs, never the owner. */
    private static final class Action implements Runnable {
        final String type;
        final Runnable release;
        final Throwable site;
        final AtomicBoolean done = new AtomicBoolean();
        volatile boolean explicit;

        Action(String type, Runnable release, Throwable site) {
            this.type = type;
            this.release = release;
            this.site = site;
        }

        @Override
        public void run() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            if (!explicit) {
                LEAKS.incrementAndGet();
                if (WARNED.add(type)) {
                    warn();
                }
            }
            try {
                release.run();
            } catch (RuntimeException e) {
                if (explicit) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "Releasing a garbage-collected " + type + " failed", e);
            }
        }

        private void warn() {
            if (site != null) {
                LOG.log(System.Logger.Level.WARNING, type + " was garbage-collected without close(); its native"
                        + " resources were released by the cleaner; created at (stack trace follows)", site);
            } else {
                LOG.log(System.Logger.Level.WARNING, type + " was garbage-collected without close(); its native"
                        + " resources were released by the cleaner (created at: unknown; run with -D" + DEBUG_PROPERTY
                        + "=true to record creation sites)");
            }
        }
    }
}
