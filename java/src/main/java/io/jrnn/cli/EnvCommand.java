package io.jrnn.cli;

import io.jrnn.Device;
import io.jrnn.backend.Backend;
import io.jrnn.backend.Backends;
import io.jrnn.backend.reference.ReferenceBackend;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jrnn env}: versions, devices and backend selection, for bug reports. */
@Command(name = "env", mixinStandardHelpOptions = true, description = "Print versions, devices and which backend auto picks.")
final class EnvCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("jrnn:      " + new Main.Version().getVersion()[0]);
        out.println("java:      " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        out.println("os:        " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " processors");
        out.println("OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS") + " OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY")
                + " GOMP_SPINCOUNT=" + System.getenv("GOMP_SPINCOUNT"));
        out.println("device:    " + Device.auto() + " (" + Device.autoReason() + ")");
        Backend auto = Backends.auto();
        out.println("backend:   " + auto.name() + " (" + Backends.lastAutoReason() + ")");
        try {
            out.println("cpu:       " + Backends.named("cpu").describe());
        } catch (RuntimeException e) {
            out.println("cpu:       unavailable: " + e.getMessage());
        }
        try {
            out.println("cpu precisions: " + io.jrnn.backend.dnnl.DnnlBackend.supportedPrecisions().stream()
                    .map(Object::toString).collect(java.util.stream.Collectors.joining(", "))
                    + " (--precision; bf16 needs AVX512-BF16 or AMX)");
        } catch (RuntimeException | LinkageError e) {
            out.println("cpu precisions: unavailable: " + e.getMessage());
        }
        out.println("reference: " + ReferenceBackend.instance().describe());
        for (String line : io.jrnn.backend.cuda.Cuda.status().describe().split("\n")) {
            out.println("cuda:      " + line);
        }
        out.println("cuda libs: searched by the dynamic linker (LD_LIBRARY_PATH, ldconfig) and java.library.path;"
                + " see docs/gpu.md");
        return 0;
    }
}
