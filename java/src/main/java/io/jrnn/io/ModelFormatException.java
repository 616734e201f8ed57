package io.jrnn.io;

/**
 * A model or array file that jrnn cannot read: truncated, damaged, hostile (declared sizes past
 * {@link LoadOptions} limits, zip path traversal or decompression bombs, nesting bombs) or
 * internally inconsistent. The message starts with the file and says what was expected and what
 * was found. Failures inside the HDF5, JSON and zip readers (index errors, negative sizes, stack
 * overflows from nesting, out-of-memory from a declared size) arrive as this exception with the
 * original as its cause.
 *
 * <p>It extends {@link IllegalArgumentException}, which the importers documented before it existed,
 * so existing handlers keep working.
 */
public class ModelFormatException extends IllegalArgumentException {
    private final String file;

    /**
     * @param file    the file (or {@code file:entry}) that cannot be read
     * @param message what is wrong (expected and actual); the file is prepended
     * @param cause   the reader's original failure, or {@code null}
     */
    public ModelFormatException(String file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    public ModelFormatException(String file, String message) {
        this(file, message, null);
    }

    /** The file the problem is in, as given to the importer. */
    public String file() {
        return file;
    }

    /**
     * Wraps any failure of a third-party reader (jhdf, Jackson, zip), including {@link Error}s such
     * as {@link StackOverflowError} and {@link OutOfMemoryError}, with the file name; jrnn's own
     * exceptions that already name the file pass through unchanged.
     */
    static RuntimeException wrap(String file, String what, Throwable t) {
        if (t instanceof ModelFormatException m) {
            return m;
        }
        if (t instanceof io.jrnn.UnsupportedConfigurationException u) {
            return u;
        }
        if (t instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith(file)) {
            return iae;
        }
        String detail = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        if (t instanceof StackOverflowError) {
            detail = "nesting too deep for the reader (" + detail + ")";
        } else if (t instanceof OutOfMemoryError) {
            detail = "a declared size does not fit in memory (" + detail + ")";
        }
        return new ModelFormatException(file, what + ": " + detail.replace('\n', ' '), t);
    }
}
