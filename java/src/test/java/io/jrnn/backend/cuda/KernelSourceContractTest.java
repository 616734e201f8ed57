package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.Precision;
import io.jrnn.backend.cuda.CudaKernels.Kernel;
import io.jrnn.layers.Activation;
import io.jrnn.layers.MaskedOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Java launcher and the CUDA source agree: the header's enum codes match {@link KernelCodes},
 * {@code JRNN_BLOCK} matches {@link LaunchGeometry#BLOCK}, and every {@code extern "C"} kernel in
 * the .cu file is a {@link Kernel} with the same parameter names in the same order.
 */
class KernelSourceContractTest {
    static final Path KERNELS = Path.of("..", "native", "kernels");

    static String read(String file) throws IOException {
        return Files.readString(KERNELS.resolve(file));
    }

    /** {@code NAME = value} entries of the header. */
    static Map<String, Integer> headerCodes() throws IOException {
        Map<String, Integer> codes = new TreeMap<>();
        Matcher m = Pattern.compile("\\b(JRNN_[A-Z0-9_]+)\\s*=\\s*(\\d+)\\s*,").matcher(read("jrnn_kernels.cuh"));
        while (m.find()) {
            codes.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return codes;
    }

    /** Every {@code extern "C" __global__} kernel of the .cu file with its parameter names. */
    static Map<String, List<String>> kernelSignatures() throws IOException {
        String source = read("jrnn_kernels.cu").replaceAll("//[^\n]*", "");
        Map<String, List<String>> kernels = new LinkedHashMap<>();
        Matcher m = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?"
                + "(\\w+)\\s*\\(([^)]*)\\)").matcher(source);
        while (m.find()) {
            List<String> names = new ArrayList<>();
            for (String param : m.group(2).split(",")) {
                String[] words = param.trim().split("[\\s*&]+");
                names.add(words[words.length - 1]);
            }
            kernels.put(m.group(1), names);
        }
        return kernels;
    }

    @Test
    void activationCodesMatchTheHeader() throws IOException {
        Map<String, Integer> header = headerCodes();
        int mapped = 0;
        for (Activation a : Activation.values()) {
            if (!a.isElementwise()) {
                assertThrows(IllegalArgumentException.class, () -> KernelCodes.activation(a));
                continue;
            }
            String name = KernelCodes.activationName(a);
            assertTrue(header.containsKey(name), name + " missing from jrnn_kernels.cuh: " + header.keySet());
            assertEquals(header.get(name), KernelCodes.activation(a), name);
            mapped++;
        }
        long headerActivations = header.keySet().stream().filter(k -> k.startsWith("JRNN_ACT_")).count();
        assertEquals(headerActivations, mapped, "the header has activations Java does not map: " + header.keySet());
    }

    @Test
    void maskedOutputAndOperandCodesMatchTheHeader() throws IOException {
        Map<String, Integer> header = headerCodes();
        assertEquals(header.get("JRNN_MASKED_CARRY"), KernelCodes.maskedOutput(false, MaskedOutput.CANONICAL));
        assertEquals(header.get("JRNN_MASKED_PREVIOUS_STATE"),
                KernelCodes.maskedOutput(false, MaskedOutput.PREVIOUS_STATE));
        // zero_output_for_mask wins over either rule.
        assertEquals(header.get("JRNN_MASKED_ZERO"), KernelCodes.maskedOutput(true, MaskedOutput.CANONICAL));
        assertEquals(header.get("JRNN_MASKED_ZERO"), KernelCodes.maskedOutput(true, MaskedOutput.PREVIOUS_STATE));
        assertEquals(header.get("JRNN_GEMM_FP32"), KernelCodes.operandType(Precision.FP32));
        assertEquals(header.get("JRNN_GEMM_FP32"), KernelCodes.operandType(Precision.TF32));
        assertEquals(header.get("JRNN_GEMM_FP16"), KernelCodes.operandType(Precision.FP16));
        assertEquals(header.get("JRNN_GEMM_BF16"), KernelCodes.operandType(Precision.BF16));
        assertEquals(4, KernelCodes.operandBytes(KernelCodes.OPERAND_FP32));
        assertEquals(2, KernelCodes.operandBytes(KernelCodes.OPERAND_FP16));
        assertEquals(2, KernelCodes.operandBytes(KernelCodes.OPERAND_BF16));
    }

    @Test
    void blockSizeMatchesTheHeader() throws IOException {
        Matcher m = Pattern.compile("#define\\s+JRNN_BLOCK\\s+(\\d+)").matcher(read("jrnn_kernels.cuh"));
        assertTrue(m.find(), "JRNN_BLOCK not defined in jrnn_kernels.cuh");
        assertEquals(LaunchGeometry.BLOCK, Integer.parseInt(m.group(1)));
    }

    @Test
    void everyKernelIsDeclaredWithTheSameParameters() throws IOException {
        Map<String, List<String>> source = kernelSignatures();
        Map<String, List<String>> java = new LinkedHashMap<>();
        for (Kernel k : Kernel.values()) {
            java.put(k.symbol, k.parameters());
        }
        assertEquals(java.keySet(), source.keySet(), "kernel names in Java vs jrnn_kernels.cu");
        for (Kernel k : Kernel.values()) {
            assertEquals(source.get(k.symbol), k.parameters(), k.symbol + " parameters");
        }
        assertEquals(Arrays.asList("src", "dst", "count"), source.get("jrnn_f32_to_bf16"));
    }

    @Test
    void unknownParameterNamesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernel.LSTM_STEP.index("z"));
        assertTrue(e.getMessage().contains("jrnn_lstm_step has no parameter 'z'"), e.getMessage());
        assertEquals(12, Kernel.LSTM_STEP.index("t"));
    }
}
