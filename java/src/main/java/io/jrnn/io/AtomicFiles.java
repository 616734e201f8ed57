package io.jrnn.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file all-or-nothing: the content goes to a temporary file in the target's directory,
 * which is moved over the target only when writing succeeded (an atomic rename where the file
 * system supports it). On any failure the temporary file is deleted and an existing target is
 * left untouched, so no reader ever sees a partial file.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Produces the content into the path it is given. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(Path tmp) throws IOException;
    }

    /**
     * Writes {@code target} through {@code writer}.
     *
     * @throws UncheckedIOException naming the target when the directory cannot be written or the writer fails with an I/O error
     */
    public static void write(Path target, Writer writer) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            writer.writeTo(tmp);
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + target + ": " + e, e);
        } catch (RuntimeException e) {
            if (e instanceof UncheckedIOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                throw e;
            }
            throw new UncheckedIOException(new IOException("Cannot write " + target + ": " + e, e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The directory went away or became read-only; nothing more can be done.
                }
            }
        }
    }
}
