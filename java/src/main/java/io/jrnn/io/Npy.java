package io.jrnn.io;

import io.jrnn.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.jetbrains.bio.npy.NpyFile;
import org.jetbrains.bio.npy.NpzFile;

/**
 * {@code .npy} and {@code .npz}: reading by jrnn's own strict parser ({@link NpyFormat}: bounded
 * header, declared sizes checked against the data actually present, float16/float64/bool/integer
 * converted as documented there, big-endian and Fortran-order arrays normalised to row-major
 * float32); writing float32 through the {@code org.jetbrains.bio:npy} library, atomically (a
 * temporary file beside the target moved into place, so a failure leaves no partial file).
 * Unreadable files fail with {@link ModelFormatException} naming the file.
 */
public final class Npy {
    private Npy() {
    }

    /** Reads one array. */
    public static Tensor read(Path path) {
        requireFile(path);
        NpyFormat.Array a;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
            a = NpyFormat.read(in, path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + path + ": " + e.getMessage(), e);
        }
        return Tensor.of(a.values(), a.shape());
    }

    /** Reads every array of an {@code .npz} file, in file order. */
    public static Map<String, Tensor> readNpz(Path path) {
        requireFile(path);
        String source = path.toString();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                KerasArchive.checkEntryName(source, entry.getName());
                String name = entry.getName().endsWith(".npy")
                        ? entry.getName().substring(0, entry.getName().length() - 4) : entry.getName();
                if (out.containsKey(name)) {
                    throw new ModelFormatException(source, "two arrays named '" + name + "'");
                }
                NpyFormat.Array a;
                try (InputStream in = new BufferedInputStream(zip.getInputStream(entry))) {
                    a = NpyFormat.read(in, source + ":" + entry.getName());
                }
                out.put(name, Tensor.of(a.values(), a.shape()));
            }
        } catch (IOException | RuntimeException e) {
            out.values().forEach(Tensor::close);
            if (e instanceof ModelFormatException m) {
                throw m;
            }
            throw new ModelFormatException(source, "cannot read as .npz (truncated or damaged zip?): " + e, e);
        }
        return out;
    }

    /** Writes one float32 array, atomically. */
    public static void write(Path path, Tensor tensor) {
        AtomicFiles.write(path, tmp -> NpyFile.write(tmp, tensor.toArray(), tensor.shape()));
    }

    /** Writes float32 arrays into one {@code .npz} (uncompressed), atomically. */
    public static void writeNpz(Path path, Map<String, Tensor> arrays) {
        AtomicFiles.write(path, tmp -> {
            try (NpzFile.Writer writer = NpzFile.write(tmp, false)) {
                for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                    writer.write(e.getKey(), e.getValue().toArray(), e.getValue().shape());
                }
            }
        });
    }

    private static void requireFile(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("No such file: " + path);
        }
    }
}
