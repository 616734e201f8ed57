package io.jrnn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A strict reader of the NumPy {@code .npy} format (versions 1.0, 2.0, 3.0) that trusts nothing in
 * the file: the header is bounded (64 KiB) and parsed without evaluation, the declared shape must
 * fit a {@link io.jrnn.Tensor} (at most 2³¹ − 1 elements), and the data is read incrementally, so a
 * header that declares more than the file holds fails as "truncated" without allocating the
 * declared size. Pickled object arrays are refused, never unpickled.
 *
 * <p>Element types: float32 as is; float16 widened exactly; float64 rounded to the nearest float32
 * (what Keras does when it casts a float64 input to its float32 compute dtype); bool and integer
 * types converted exactly, or refused when a value is not exactly representable in float32
 * (|v| &gt; 2²⁴). Big-endian data is byte-swapped. Fortran-order (column-major) arrays are
 * transposed to row-major, so every result is C order. Anything else (complex, strings, structured
 * and object dtypes) fails naming the dtype found and the ones accepted.
 */
final class NpyFormat {
    static final int MAX_HEADER_BYTES = 1 << 16;
    /** Data is read in pieces of this many bytes (a multiple of every element size). */
    private static final int CHUNK = 1 << 24;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    static final String ACCEPTED = "float32 (<f4), or float16/float64/bool/int8-64/uint8-64 converted";

    private NpyFormat() {
    }

    /** A parsed array: row-major float32 values and the shape. */
    record Array(float[] values, int[] shape) {
    }

    /**
     * Reads one array from {@code in}.
     *
     * @param what the file (or {@code file:entry}) for messages
     * @throws ModelFormatException for anything that is not a readable .npy array
     */
    static Array read(InputStream in, String what) throws IOException {
        byte[] magic = in.readNBytes(8);
        if (magic.length < 8 || !Arrays.equals(magic, 0, 6, MAGIC, 0, 6)) {
            throw new ModelFormatException(what, "not a .npy file: expected the magic \\x93NUMPY, got "
                    + magic.length + " bytes " + hex(magic));
        }
        int major = magic[6] & 0xff;
        int minor = magic[7] & 0xff;
        if (major < 1 || major > 3) {
            throw new ModelFormatException(what, ".npy format version " + major + "." + minor + "; expected 1.0, 2.0 or 3.0");
        }
        int lenBytes = major == 1 ? 2 : 4;
        byte[] len = in.readNBytes(lenBytes);
        if (len.length < lenBytes) {
            throw new ModelFormatException(what, "truncated .npy header length");
        }
        long headerLen = 0;
        for (int i = lenBytes - 1; i >= 0; i--) {
            headerLen = (headerLen << 8) | (len[i] & 0xff);
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new ModelFormatException(what, ".npy header declares " + headerLen + " bytes; at most " + MAX_HEADER_BYTES
                    + " are accepted");
        }
        byte[] headerBytes = in.readNBytes((int) headerLen);
        if (headerBytes.length < headerLen) {
            throw new ModelFormatException(what, "truncated .npy header: declares " + headerLen + " bytes, the file has "
                    + headerBytes.length);
        }
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = Header.parse(header, what);
        long count = 1;
        for (int d : h.shape) {
            count *= d;
            if (count > Integer.MAX_VALUE) {
                throw new ModelFormatException(what, ".npy shape " + Arrays.toString(h.shape) + " has more than "
                        + Integer.MAX_VALUE + " elements, the most a Tensor holds");
            }
        }
        DType t = DType.parse(h.descr, what);
        long bytes = count * t.size;
        // Read in chunks that grow only as data arrives: a lying header on a short file allocates only what is there.
        List<byte[]> chunks = new ArrayList<>();
        long got = 0;
        while (got < bytes) {
            byte[] chunk = in.readNBytes((int) Math.min(CHUNK, bytes - got));
            got += chunk.length;
            if (chunk.length > 0) {
                chunks.add(chunk);
            }
            if (chunk.length < Math.min(CHUNK, bytes - (got - chunk.length))) {
                throw new ModelFormatException(what, "truncated .npy data: shape " + Arrays.toString(h.shape) + " of " + h.descr
                        + " needs " + bytes + " bytes, the file has " + got);
            }
        }
        float[] values = new float[(int) count];
        int at = 0;
        for (byte[] chunk : chunks) {
            t.toFloats(chunk, values, at, what);
            at += chunk.length / t.size;
        }
        if (h.fortranOrder && h.shape.length > 1) {
            values = fortranToC(values, h.shape);
        }
        return new Array(values, h.shape);
    }

    /** Column-major to row-major. */
    static float[] fortranToC(float[] f, int[] shape) {
        int rank = shape.length;
        float[] c = new float[f.length];
        int[] idx = new int[rank];
        long[] fStride = new long[rank];
        long s = 1;
        for (int i = 0; i < rank; i++) {
            fStride[i] = s;
            s *= shape[i];
        }
        for (int k = 0; k < c.length; k++) {
            long off = 0;
            for (int i = 0; i < rank; i++) {
                off += idx[i] * fStride[i];
            }
            c[k] = f[(int) off];
            for (int i = rank - 1; i >= 0; i--) {
                if (++idx[i] < shape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return c;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    /** The header dict: {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. */
    private record Header(String descr, boolean fortranOrder, int[] shape) {
        static Header parse(String text, String what) {
            Parser p = new Parser(text, what);
            String descr = null;
            Boolean fortran = null;
            int[] shape = null;
            p.skip();
            p.expect('{');
            while (true) {
                p.skip();
                if (p.peek() == '}') {
                    break;
                }
                String key = p.string();
                p.skip();
                p.expect(':');
                p.skip();
                switch (key) {
                    case "descr" -> {
                        if (p.peek() != '\'' && p.peek() != '"') {
                            throw p.fail("a structured dtype " + p.rest() + "; expected " + ACCEPTED);
                        }
                        descr = p.string();
                    }
                    case "fortran_order" -> fortran = p.bool();
                    case "shape" -> shape = p.tuple();
                    default -> throw p.fail("unknown header key '" + key + "'; expected descr, fortran_order and shape");
                }
                p.skip();
                if (p.peek() == ',') {
                    p.pos++;
                    continue;
                }
                p.skip();
                if (p.peek() != '}') {
                    throw p.fail("expected ',' or '}'");
                }
            }
            if (descr == null || fortran == null || shape == null) {
                throw new ModelFormatException(what, ".npy header lacks " + (descr == null ? "'descr'"
                        : fortran == null ? "'fortran_order'" : "'shape'") + ": " + abbreviate(text));
            }
            return new Header(descr, fortran, shape);
        }
    }

    static String abbreviate(String s) {
        String t = s.strip().replaceAll("[^\\x20-\\x7e]", "?");
        return t.length() > 120 ? t.substring(0, 120) + "…" : t;
    }

    private static final class Parser {
        final String s;
        final String what;
        int pos;

        Parser(String s, String what) {
            this.s = s;
            this.what = what;
        }

        ModelFormatException fail(String why) {
            return new ModelFormatException(what, "malformed .npy header at character " + pos + ": " + why + " (header "
                    + abbreviate(s) + ")");
        }

        char peek() {
            if (pos >= s.length()) {
                throw fail("unexpected end");
            }
            return s.charAt(pos);
        }

        void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        void expect(char c) {
            if (peek() != c) {
                throw fail("expected '" + c + "', got '" + peek() + "'");
            }
            pos++;
        }

        String rest() {
            return abbreviate(s.substring(pos, Math.min(s.length(), pos + 40)));
        }

        String string() {
            char q = peek();
            if (q != '\'' && q != '"') {
                throw fail("expected a quoted string");
            }
            int end = s.indexOf(q, pos + 1);
            if (end < 0) {
                throw fail("unterminated string");
            }
            String v = s.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        boolean bool() {
            if (s.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw fail("expected True or False");
        }

        int[] tuple() {
            expect('(');
            List<Integer> dims = new ArrayList<>();
            while (true) {
                skip();
                if (peek() == ')') {
                    pos++;
                    break;
                }
                int start = pos;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                }
                // Python 2 files may write 3L.
                String digits = s.substring(start, pos);
                if (pos < s.length() && s.charAt(pos) == 'L') {
                    pos++;
                }
                if (digits.isEmpty() || digits.length() > 10 || Long.parseLong(digits) > Integer.MAX_VALUE) {
                    throw fail("expected a dimension between 0 and " + Integer.MAX_VALUE + " in the shape");
                }
                dims.add(Integer.parseInt(digits));
                if (dims.size() > 32) {
                    throw fail("more than 32 dimensions");
                }
                skip();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != ')') {
                    throw fail("expected ',' or ')' in the shape");
                }
            }
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /** An element type: kind (f, i, u, b), byte size and byte order. */
    private record DType(String descr, char kind, int size, ByteOrder order) {
        static DType parse(String descr, String what) {
            if (descr.length() >= 3) {
                char o = descr.charAt(0);
                char kind = descr.charAt(1);
                String n = descr.substring(2);
                ByteOrder order = o == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
                boolean orderOk = o == '<' || o == '>' || o == '|' || o == '=';
                int size = n.matches("[1248]") ? Integer.parseInt(n) : -1;
                boolean ok = orderOk && switch (kind) {
                    case 'f' -> size >= 2;
                    case 'i', 'u' -> size >= 1;
                    case 'b' -> size == 1;
                    default -> false;
                };
                if (ok) {
                    return new DType(descr, kind, size, order);
                }
            }
            throw new ModelFormatException(what, "unsupported .npy dtype '" + descr + "' (" + describe(descr) + "); expected "
                    + ACCEPTED);
        }

        private static String describe(String descr) {
            if (descr.length() < 2) {
                return "unknown";
            }
            return switch (descr.charAt(1)) {
                case 'c' -> "complex";
                case 'O' -> "Python objects (pickled); never unpickled";
                case 'S', 'a' -> "byte strings";
                case 'U' -> "unicode strings";
                case 'V' -> "raw/structured";
                case 'M', 'm' -> "datetime";
                case 'f' -> "float of an unsupported size";
                default -> "unknown";
            };
        }

        void toFloats(byte[] data, float[] into, int at, String what) {
            ByteBuffer b = ByteBuffer.wrap(data).order(order);
            int count = data.length / size;
            float[] out = new float[count];
            switch (kind) {
                case 'f' -> {
                    if (size == 4) {
                        b.asFloatBuffer().get(out);
                    } else if (size == 8) {
                        for (int i = 0; i < count; i++) {
                            out[i] = (float) b.getDouble(i * 8);
                        }
                    } else {
                        for (int i = 0; i < count; i++) {
                            out[i] = halfToFloat(b.getShort(i * 2));
                        }
                    }
                }
                case 'b' -> {
                    for (int i = 0; i < count; i++) {
                        out[i] = data[i] != 0 ? 1f : 0f;
                    }
                }
                default -> {
                    boolean unsigned = kind == 'u';
                    for (int i = 0; i < count; i++) {
                        long v = switch (size) {
                            case 1 -> unsigned ? b.get(i) & 0xffL : b.get(i);
                            case 2 -> unsigned ? b.getShort(i * 2) & 0xffffL : b.getShort(i * 2);
                            case 4 -> unsigned ? b.getInt(i * 4) & 0xffffffffL : b.getInt(i * 4);
                            default -> b.getLong(i * 8);
                        };
                        boolean exact = unsigned && size == 8 ? v >= 0 && v <= (1L << 24) : v >= -(1L << 24) && v <= (1L << 24);
                        if (!exact) {
                            throw new ModelFormatException(what, descr + " value " + (unsigned && size == 8 ? Long.toUnsignedString(v) : v)
                                    + " at flat index " + (at + i) + " is not exactly representable in float32 (|v| > 2^24)");
                        }
                        out[i] = v;
                    }
                }
            }
            System.arraycopy(out, 0, into, at, count);
        }
    }

    /** IEEE 754 binary16 to float32 (exact). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
