package io.jrnn.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jrnn.backend.cuda.CudaKernels.Kernel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The build's kernel fatbin (needs nvcc at build time, like the Maven step; skipped otherwise): it
 * ships as a class-path resource, holds SASS for sm_75/80/86/89/90 and PTX for compute_90, every
 * kernel is in every ELF, and ptxas's resource-usage report shows no spills and no stack frames.
 */
class KernelFatbinTest {
    /** SASS architectures the build must contain. */
    static final Set<Integer> SASS = Set.of(75, 80, 86, 89, 90);
    static final int PTX = 90;
    static final Path REPORT = Path.of("target", "native", "jrnn_kernels.resource-usage.txt");

    /** Whether the Maven build could run nvcc (the same test as java/pom.xml's antrun step). */
    static boolean nvccAtBuildTime() {
        if (Boolean.parseBoolean(System.getProperty("jrnn.native.skip", "false"))) {
            return false;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        String home = System.getProperty("jrnn.cuda.home", System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"));
        return Files.isExecutable(Path.of(home, "bin", "nvcc"));
    }

    /** One entry of a fatbin container: kind 1 = PTX, 2 = ELF (SASS); its architecture; its payload. */
    record Entry(int kind, int arch, boolean compressed, byte[] payload) {
    }

    /**
     * Parses the fatbin container: a 16-byte header (magic {@code 0xBA55ED50}, version, header
     * size, payload size), then entries with a header of their own (kind at 0, header size at 4,
     * padded payload size at 8, architecture at 28, flags at 40; flag {@code 0x2000} = compressed).
     */
    static List<Entry> parse(byte[] fatbin) {
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, b.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long size = b.getLong(8);
        assertEquals(fatbin.length, headerSize + size, "fatbin size");
        List<Entry> entries = new ArrayList<>();
        int offset = headerSize;
        while (offset < fatbin.length) {
            int kind = Short.toUnsignedInt(b.getShort(offset));
            int entryHeader = b.getInt(offset + 4);
            int padded = (int) b.getLong(offset + 8);
            int arch = b.getInt(offset + 28);
            long flags = b.getLong(offset + 40);
            byte[] payload = new byte[padded];
            System.arraycopy(fatbin, offset + entryHeader, payload, 0, padded);
            entries.add(new Entry(kind, arch, (flags & 0x2000) != 0 || b.getLong(offset + 56) != 0, payload));
            offset += entryHeader + padded;
        }
        assertEquals(fatbin.length, offset, "entries end at the end of the fatbin");
        return entries;
    }

    static byte[] fatbin() {
        Assumptions.assumeTrue(nvccAtBuildTime(), "nvcc was not available to the build: no kernel fatbin to check");
        assertTrue(CudaKernels.imageAvailable(), "nvcc is available but the build shipped no "
                + CudaKernels.RESOURCE + " resource (java/pom.xml's cuda-kernels step)");
        return CudaKernels.image();
    }

    @Test
    void theFatbinShipsAsAResourceWithEveryArchitecture() {
        List<Entry> entries = parse(fatbin());
        Set<Integer> elf = new TreeSet<>();
        Set<Integer> ptx = new TreeSet<>();
        for (Entry e : entries) {
            (e.kind() == 2 ? elf : ptx).add(e.arch());
        }
        assertEquals(new TreeSet<>(SASS), elf, "SASS architectures");
        assertEquals(Set.of(PTX), ptx, "PTX architectures");
    }

    @Test
    void everyElfHoldsEveryKernel() {
        for (Entry e : parse(fatbin())) {
            if (e.kind() != 2) {
                continue;
            }
            assertFalse(e.compressed(), "sm_" + e.arch() + " ELF is compressed; names cannot be checked");
            String text = new String(e.payload(), StandardCharsets.ISO_8859_1);
            assertTrue(text.startsWith("\u007fELF"), "sm_" + e.arch() + " entry is an ELF");
            for (Kernel k : Kernel.values()) {
                assertTrue(text.contains(k.symbol + "\0"), k.symbol + " missing from the sm_" + e.arch() + " ELF");
            }
        }
    }

    @Test
    void noKernelSpillsOrUsesAStackFrame() throws IOException {
        Assumptions.assumeTrue(nvccAtBuildTime() && Files.exists(REPORT), "no resource-usage report (built without nvcc)");
        String report = Files.readString(REPORT);
        Matcher entry = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\d+)'").matcher(report);
        Set<String> seen = new TreeSet<>();
        while (entry.find()) {
            seen.add(entry.group(1) + "@" + entry.group(2));
        }
        for (Kernel k : Kernel.values()) {
            for (int arch : SASS) {
                assertTrue(seen.contains(k.symbol + "@sm_" + arch), k.symbol + " for sm_" + arch + " not in " + REPORT);
            }
        }
        Matcher props = Pattern.compile("(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads")
                .matcher(report);
        int count = 0;
        while (props.find()) {
            count++;
            assertEquals("0 0 0", props.group(1) + " " + props.group(2) + " " + props.group(3),
                    "stack/spills in " + REPORT + ": " + props.group());
        }
        assertEquals(Kernel.values().length * SASS.size(), count, "one properties line per kernel and architecture");
        Matcher registers = Pattern.compile("Used (\\d+) registers").matcher(report);
        while (registers.find()) {
            int used = Integer.parseInt(registers.group(1));
            // 256-thread blocks: at most 255 registers, and well under 64 keeps full occupancy.
            assertTrue(used <= 64, "a kernel uses " + used + " registers (" + REPORT + ")");
        }
        assertFalse(report.toLowerCase(Locale.ROOT).contains("warning"), report);
    }
}
