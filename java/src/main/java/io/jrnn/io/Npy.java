package io.jrnn.io;

import io.jrnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpyFile;
import org.jetbrains.bio.npy.NpzEntry;
import org.jetbrains.bio.npy.NpzFile;

/**
 * {@code .npy} and {@code .npz} through the {@code org.jetbrains.bio:npy} library. Reading converts
 * float64 and integer arrays to float32 (token ids stay exact below 2²⁴); writing is float32.
 */
public final class Npy {
    private Npy() {
    }

    /** Reads one array. */
    public static Tensor read(Path path) {
        requireFile(path);
        NpyArray array;
        try {
            array = NpyFile.read(path, Integer.MAX_VALUE);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Cannot read " + path + " as .npy: " + e.getMessage(), e);
        }
        return toTensor(array, path.toString());
    }

    /** Reads every array of an {@code .npz} file, in file order. */
    public static Map<String, Tensor> readNpz(Path path) {
        requireFile(path);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NpzFile.Reader reader = NpzFile.read(path)) {
            for (NpzEntry entry : reader.introspect()) {
                String name = entry.getName().endsWith(".npy")
                        ? entry.getName().substring(0, entry.getName().length() - 4) : entry.getName();
                out.put(name, toTensor(reader.get(entry.getName(), Integer.MAX_VALUE), path + ":" + name));
            }
        } catch (RuntimeException e) {
            out.values().forEach(Tensor::close);
            throw new IllegalArgumentException("Cannot read " + path + " as .npz: " + e.getMessage(), e);
        }
        return out;
    }

    /** Writes one float32 array. */
    public static void write(Path path, Tensor tensor) {
        try {
            NpyFile.write(path, tensor.toArray(), tensor.shape());
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException("Cannot write " + path + ": " + e.getMessage(), e));
        }
    }

    /** Writes float32 arrays into one {@code .npz} (uncompressed). */
    public static void writeNpz(Path path, Map<String, Tensor> arrays) {
        try (NpzFile.Writer writer = NpzFile.write(path, false)) {
            for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                writer.write(e.getKey(), e.getValue().toArray(), e.getValue().shape());
            }
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException("Cannot write " + path + ": " + e.getMessage(), e));
        }
    }

    private static void requireFile(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("No such file: " + path);
        }
    }

    private static Tensor toTensor(NpyArray array, String what) {
        int[] shape = array.getShape();
        Object data = array.getData();
        float[] values;
        if (data instanceof float[] f) {
            values = f;
        } else if (data instanceof double[] d) {
            values = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                values[i] = (float) d[i];
            }
        } else if (data instanceof int[] a) {
            values = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                values[i] = a[i];
            }
        } else if (data instanceof long[] a) {
            values = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                values[i] = a[i];
            }
        } else if (data instanceof short[] a) {
            values = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                values[i] = a[i];
            }
        } else if (data instanceof byte[] a) {
            values = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                values[i] = a[i];
            }
        } else {
            throw new IllegalArgumentException(what + ": unsupported .npy dtype (" + data.getClass().getSimpleName()
                    + "); expected float32, float64 or an integer type");
        }
        return Tensor.of(values, shape);
    }
}
