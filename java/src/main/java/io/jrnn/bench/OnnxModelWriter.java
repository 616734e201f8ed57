package io.jrnn.bench;

import io.jrnn.weights.OnnxRnnWeights;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes an ONNX model (ModelProto bytes, IR 8, opset 14) holding one {@code LSTM}, {@code GRU} or
 * {@code RNN} node with the benchmark's weights as initializers {@code W}, {@code R}, {@code B},
 * converted by the shared {@link OnnxRnnWeights} (LSTM gate order i, o, f, c; GRU z, r, h with
 * {@code linear_before_reset=1} for Keras {@code reset_after=True}). Graph input {@code X [T, N, C]},
 * output {@code Y [T, 1, N, H]} (ONNX's default time-major layout, which ONNX Runtime runs natively).
 * The hard-sigmoid LSTM gets {@code activations = [HardSigmoid, Tanh, Tanh]} with
 * {@code alpha = 0.2, beta = 0.5} (Keras 2's definition).
 *
 * <p>A minimal protobuf encoder (varints, length-delimited fields, fixed32 floats) instead of the
 * protobuf-java dependency: without generated ONNX classes, field numbers are written by hand either
 * way. Field numbers are those of onnx.proto.
 */
public final class OnnxModelWriter {
    private OnnxModelWriter() {
    }

    // onnx.proto enums
    private static final int FLOAT = 1; // TensorProto.DataType.FLOAT
    private static final int ATTR_FLOAT = 1;
    private static final int ATTR_INT = 2;
    private static final int ATTR_FLOATS = 6;
    private static final int ATTR_STRINGS = 8;

    /** The ONNX operator name of a cell. */
    public static String opType(BenchCell cell) {
        return switch (cell.kind()) {
            case LSTM -> "LSTM";
            case GRU -> "GRU";
            case RNN -> "RNN";
        };
    }

    /** The model bytes for {@code cell} with {@code weights}. */
    public static byte[] write(BenchCell cell, BenchWeights weights) {
        OnnxRnnWeights onnx = OnnxRnnWeights.fromKeras(weights.keras(cell));
        int g = cell.kind().gates;
        int h = cell.h();
        Proto node = new Proto()
                .string(1, "X").string(1, "W").string(1, "R").string(1, "B")
                .string(2, "Y")
                .string(3, "rnn")
                .string(4, opType(cell))
                .message(5, intAttr("hidden_size", h));
        if (cell.kind() == BenchCell.Kind.GRU) {
            node.message(5, intAttr("linear_before_reset", onnx.linearBeforeReset() ? 1 : 0));
        }
        if (cell.hardSigmoid()) {
            node.message(5, new Proto().string(1, "activations").string(9, "HardSigmoid").string(9, "Tanh")
                    .string(9, "Tanh").varint(20, ATTR_STRINGS));
            node.message(5, new Proto().string(1, "activation_alpha").fixed32(7, 0.2f).varint(20, ATTR_FLOATS));
            node.message(5, new Proto().string(1, "activation_beta").fixed32(7, 0.5f).varint(20, ATTR_FLOATS));
        }
        float[] b = onnx.hasBias() ? onnx.b() : new float[2 * g * h];
        Proto graph = new Proto()
                .message(1, node)
                .string(2, "jrnn_bench_" + cell.id())
                .message(5, tensor("W", onnx.w(), 1, g * h, cell.c()))
                .message(5, tensor("R", onnx.r(), 1, g * h, h))
                .message(5, tensor("B", b, 1, 2 * g * h))
                .message(11, valueInfo("X", cell.t(), cell.n(), cell.c()))
                .message(12, valueInfo("Y", cell.t(), 1, cell.n(), h));
        return new Proto()
                .varint(1, 8) // ir_version
                .string(2, "jrnn")
                .message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 14)) // opset_import: default domain, opset 14
                .bytes();
    }

    private static Proto intAttr(String name, long value) {
        return new Proto().string(1, name).varint(3, value).varint(20, ATTR_INT);
    }

    private static Proto tensor(String name, float[] values, long... dims) {
        long count = 1;
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
            count *= d;
        }
        if (count != values.length) {
            throw new IllegalArgumentException("ONNX initializer " + name + ": expected " + count + " values, got "
                    + values.length);
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return t.varint(2, FLOAT).string(8, name).bytes(9, raw.array());
    }

    private static Proto valueInfo(String name, long... dims) {
        Proto shape = new Proto();
        for (long d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, FLOAT).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** A protobuf message being written: fields appended in call order. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            tag(field, 0);
            writeVarint(value);
            return this;
        }

        Proto fixed32(int field, float value) {
            tag(field, 5);
            int bits = Float.floatToIntBits(value);
            for (int i = 0; i < 4; i++) {
                out.write(bits >>> (8 * i));
            }
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.bytes());
        }

        Proto bytes(int field, byte[] value) {
            tag(field, 2);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint(((long) field << 3) | wireType);
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
