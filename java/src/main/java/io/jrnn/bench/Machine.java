package io.jrnn.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the machine for the report. */
final class Machine {
    private Machine() {
    }

    /** The CPU model from {@code /proc/cpuinfo} and the processor count, e.g. {@code AMD EPYC (2 processors)}. */
    static String cpuModel() {
        String model = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: keep os.arch
        }
        return model + " (" + Runtime.getRuntime().availableProcessors() + " processors)";
    }
}
