package io.jrnn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npy/.npz reader: every dtype, byte order and layout numpy writes, and damaged or hostile files. */
class NpyHostileTest {
    @TempDir
    Path tmp;

    /** A version-1.0 .npy: header padded to 64 bytes as numpy does, then {@code data}. */
    static byte[] npy(String descr, boolean fortran, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
        return npyWithHeader(dict, data);
    }

    static byte[] npyWithHeader(String dict, byte[] data) {
        int pad = 64 - (10 + dict.length() + 1) % 64;
        String header = dict + " ".repeat(pad % 64) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length() & 0xff);
        out.write(header.length() >>> 8);
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] bytes(ByteOrder order, int size, double... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * size).order(order);
        for (double v : values) {
            switch (size) {
                case 8 -> b.putDouble(v);
                case 4 -> b.putFloat((float) v);
                default -> throw new IllegalArgumentException();
            }
        }
        return b.array();
    }

    private Tensor read(byte[] file) throws IOException {
        Path p = tmp.resolve("a.npy");
        Files.write(p, file);
        return Npy.read(p);
    }

    private ModelFormatException fails(byte[] file, String... mentions) throws IOException {
        Path p = tmp.resolve("bad.npy");
        Files.write(p, file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Npy.read(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String m : mentions) {
            assertTrue(e.getMessage().contains(m), "'" + m + "' missing from: " + e.getMessage());
        }
        return e;
    }

    @Test
    void floatTypesAndByteOrdersConvert() throws IOException {
        double[] v = {1.5, -2.25, Double.NaN, Double.POSITIVE_INFINITY, 1e-3, 3};
        float[] expected = {1.5f, -2.25f, Float.NaN, Float.POSITIVE_INFINITY, 1e-3f, 3f};
        for (String descr : new String[] {"<f4", ">f4", "<f8", ">f8"}) {
            ByteOrder o = descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            try (Tensor t = read(npy(descr, false, "(2, 3)", bytes(o, descr.charAt(2) - '0', v)))) {
                assertArrayEquals(new int[] {2, 3}, t.shape(), descr);
                assertArrayEquals(expected, t.toArray(), descr);
            }
        }
        // float16: 1.0, -2.0, 65504 (max), smallest subnormal, NaN, -inf; exact widening.
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        for (int bits : new int[] {0x3c00, 0xc000, 0x7bff, 0x0001, 0x7e00, 0xfc00}) {
            h.putShort((short) bits);
        }
        try (Tensor t = read(npy("<f2", false, "(6,)", h.array()))) {
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, Float.NaN, Float.NEGATIVE_INFINITY}, t.toArray());
        }
    }

    @Test
    void integersAndBoolsConvertExactlyOrFailNamingTheValue() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * 8).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putLong(-7).putLong(1 << 24).putLong(42);
        try (Tensor t = read(npy("<i8", false, "(4,)", b.array()))) {
            assertArrayEquals(new float[] {0, -7, 1 << 24, 42}, t.toArray());
        }
        try (Tensor t = read(npy("|u1", false, "(3,)", new byte[] {0, (byte) 255, 7}))) {
            assertArrayEquals(new float[] {0, 255, 7}, t.toArray());
        }
        try (Tensor t = read(npy("|b1", false, "(3,)", new byte[] {0, 1, 2}))) {
            assertArrayEquals(new float[] {0, 1, 1}, t.toArray());
        }
        ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putShort((short) -3).putShort((short) 300).putInt(0);
        try (Tensor t = read(npy(">i2", false, "(2,)", java.util.Arrays.copyOf(be.array(), 4)))) {
            assertArrayEquals(new float[] {-3, 300}, t.toArray());
        }
        ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putLong((1L << 24) + 1);
        fails(npy("<i8", false, "(2,)", big.array()), "16777217", "flat index 1", "not exactly representable");
        ByteBuffer min = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE);
        fails(npy("<i8", false, "(1,)", min.array()), "not exactly representable");
        fails(npy("<u8", false, "(1,)", new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}), "18446744073709551615");
    }

    @Test
    void fortranOrderIsTransposedToRowMajor() throws IOException {
        // A 2x3 array [[1,2,3],[4,5,6]] stored column-major: 1 4 2 5 3 6.
        try (Tensor t = read(npy("<f4", true, "(2, 3)", bytes(ByteOrder.LITTLE_ENDIAN, 4, 1, 4, 2, 5, 3, 6)))) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toArray());
        }
        // 2x3x4: element (i,j,k) = 100i + 10j + k; Fortran offset i + 2j + 6k.
        double[] f = new double[24];
        float[] c = new float[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    f[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
                    c[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k;
                }
            }
        }
        try (Tensor t = read(npy(">f8", true, "(2, 3, 4)", bytes(ByteOrder.BIG_ENDIAN, 8, f)))) {
            assertArrayEquals(new int[] {2, 3, 4}, t.shape());
            assertArrayEquals(c, t.toArray());
        }
    }

    @Test
    void scalarsAndEmptyArraysRead() throws IOException {
        try (Tensor t = read(npy("<f4", false, "()", bytes(ByteOrder.LITTLE_ENDIAN, 4, 7)))) {
            assertEquals(0, t.rank());
            assertArrayEquals(new float[] {7}, t.toArray());
        }
        try (Tensor t = read(npy("<f4", false, "(0, 5, 3)", new byte[0]))) {
            assertArrayEquals(new int[] {0, 5, 3}, t.shape());
        }
    }

    @Test
    void unsupportedDtypesNameExpectedAndActual() throws IOException {
        fails(npy("<c8", false, "(1,)", new byte[8]), "'<c8'", "complex", "expected float32");
        fails(npy("|O", false, "(1,)", new byte[8]), "'|O'", "never unpickled");
        fails(npy("<U3", false, "(1,)", new byte[12]), "unicode");
        fails(npy("<f16", false, "(1,)", new byte[16]), "'<f16'");
        fails(npyWithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]), "structured");
    }

    @Test
    void damagedAndHostileHeadersFailWithoutAllocating() throws IOException {
        fails("not numpy".getBytes(StandardCharsets.US_ASCII), "magic");
        fails(new byte[0], "magic");
        byte[] ok = npy("<f4", false, "(2, 3)", bytes(ByteOrder.LITTLE_ENDIAN, 4, 1, 2, 3, 4, 5, 6));
        fails(java.util.Arrays.copyOf(ok, ok.length - 1), "truncated", "needs 24 bytes", "has 23");
        fails(java.util.Arrays.copyOf(ok, 30), "truncated .npy header");
        byte[] v9 = ok.clone();
        v9[6] = 9;
        fails(v9, "version 9.0");
        // 2^31-1 elements declared in a 100-byte file: refused as truncated, after reading what is there.
        long before = Runtime.getRuntime().totalMemory();
        fails(npy("<f4", false, "(2147483647,)", new byte[16]), "truncated");
        fails(npy("<f4", false, "(65536, 65536)", new byte[16]), "more than 2147483647 elements");
        fails(npy("<f4", false, "(99999999999,)", new byte[16]), "dimension");
        fails(npy("<f4", false, "(-1, 3)", new byte[16]), "dimension");
        assertTrue(Runtime.getRuntime().totalMemory() - before < 256L << 20);
        fails(npyWithHeader("{'descr': '<f4', 'shape': (1,), }", new byte[4]), "'fortran_order'");
        fails(npyWithHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", new byte[4]), "True or False");
        fails(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", new byte[4]), "unknown header key");
        fails(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", new byte[4]), "malformed");
        // A version-2 header claiming 4 GiB.
        byte[] v2 = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, -1, -1, -1, -1};
        fails(v2, "header declares 4294967295 bytes");
    }

    @Test
    void randomBytesAfterAValidMagicNeverEscapeAsOtherExceptions() throws IOException {
        SplittableRandom rng = new SplittableRandom(5);
        byte[] base = npy("<f4", false, "(2, 3)", bytes(ByteOrder.LITTLE_ENDIAN, 4, 1, 2, 3, 4, 5, 6));
        for (int i = 0; i < 2000; i++) {
            byte[] b = base.clone();
            for (int k = 0; k < 1 + rng.nextInt(3); k++) {
                b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            }
            Path p = tmp.resolve("r.npy");
            Files.write(p, b);
            try {
                Npy.read(p).close();
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().startsWith(p.toString()));
            }
        }
    }

    @Test
    void npzEntriesAreCheckedLikeNpy() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a.npy", npy("<f4", false, "(2,)", bytes(ByteOrder.LITTLE_ENDIAN, 4, 1, 2)));
        entries.put("b.npy", npy(">f8", true, "(2, 2)", bytes(ByteOrder.BIG_ENDIAN, 8, 1, 3, 2, 4)));
        Path ok = tmp.resolve("ok.npz");
        KerasFixtures.writeZip(ok, entries);
        Map<String, Tensor> read = Npy.readNpz(ok);
        assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(read.keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4}, read.get("b").toArray());
        read.values().forEach(Tensor::close);

        entries.put("../../escape.npy", entries.get("a.npy"));
        Path evil = tmp.resolve("evil.npz");
        KerasFixtures.writeZip(evil, entries);
        assertTrue(assertThrows(ModelFormatException.class, () -> Npy.readNpz(evil)).getMessage().contains("../../escape.npy"));

        entries.remove("../../escape.npy");
        entries.put("c.npy", npy("<c8", false, "(1,)", new byte[8]));
        Path complex = tmp.resolve("complex.npz");
        KerasFixtures.writeZip(complex, entries);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Npy.readNpz(complex));
        assertTrue(e.getMessage().contains(complex + ":c.npy") && e.getMessage().contains("complex"), e.getMessage());

        byte[] zip = Files.readAllBytes(ok);
        Path cut = tmp.resolve("cut.npz");
        Files.write(cut, java.util.Arrays.copyOf(zip, zip.length / 2));
        assertThrows(ModelFormatException.class, () -> Npy.readNpz(cut));
    }

    @Test
    void writesAreAtomic() throws IOException {
        Path out = tmp.resolve("y.npy");
        try (Tensor t = Tensor.of(new float[] {1, 2}, 2)) {
            Npy.write(out, t);
        }
        byte[] before = Files.readAllBytes(out);
        Tensor closed = Tensor.of(new float[] {3}, 1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> Npy.write(out, closed));
        assertArrayEquals(before, Files.readAllBytes(out), "a failed write leaves the previous file");
        Map<String, Tensor> two = new LinkedHashMap<>();
        two.put("a", Tensor.of(new float[] {1}, 1));
        two.put("b", closed);
        Path npz = tmp.resolve("y.npz");
        assertThrows(IllegalStateException.class, () -> Npy.writeNpz(npz, two));
        two.get("a").close();
        assertFalse(Files.exists(npz), "a write failing half-way leaves no file");
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
        Path blocker = Files.createFile(tmp.resolve("file"));
        try (Tensor t = Tensor.of(new float[] {1}, 1)) {
            assertThrows(UncheckedIOException.class, () -> Npy.write(blocker.resolve("y.npy"), t));
        }
    }
}
