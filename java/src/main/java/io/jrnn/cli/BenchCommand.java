package io.jrnn.cli;

import io.jrnn.bench.BenchArgs;
import io.jrnn.bench.BenchCell;
import io.jrnn.bench.BenchReport;
import io.jrnn.bench.BenchResults;
import io.jrnn.bench.BenchRunner;
import io.jrnn.bench.Sampler;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jrnn bench}: jrnn against its peers on this machine, in one run (docs/bench.md). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark jrnn's LSTM/GRU/SimpleRNN against direct oneDNN, ONNX Runtime, Deeplearning4j and "
                + "PyTorch: same weights, shapes and thread count, interleaved. Prints a table; writes "
                + "bench-results.{md,json} and bench-chart.png to --out. See docs/bench.md."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Two shapes, short rounds: under two minutes on 2 cores.")
    boolean quick;

    @Option(names = "--peers", paramLabel = "LIST", defaultValue = "onednn,ort,dl4j,torch",
            description = "Peers next to jrnn: onednn,ort,dl4j,torch or none (default: ${DEFAULT-VALUE}).")
    String peers;

    @Option(names = "--shapes", paramLabel = "HxNxTxC,...",
            description = "Shapes (units, batch, steps, features); default: the six of docs/bench.md (--quick: two).")
    String shapes;

    @Option(names = "--cells", paramLabel = "LIST",
            description = "lstm,gru,rnn,lstm-hs (hard_sigmoid LSTM, composed path); default: lstm,gru,rnn plus lstm-hs at one shape.")
    String cells;

    @Option(names = "--threads", paramLabel = "LIST", defaultValue = "1,2",
            description = "Thread counts, one child JVM each (default: ${DEFAULT-VALUE}).")
    String threads;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Where the Markdown, JSON and PNG go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--rounds", paramLabel = "N", description = "Interleaved rounds per cell (default 15; --quick 5).")
    Integer rounds;

    @Option(names = "--precisions", paramLabel = "LIST", defaultValue = "fp32,bf16",
            description = "fp32,bf16: jrnn also in bf16 (row jrnn-bf16; n/a on CPUs without AVX512-BF16/AMX); fp32: "
                    + "no bf16 row (default: ${DEFAULT-VALUE}).")
    String precisions;

    @Option(names = "--python", paramLabel = "PATH", description = "Python with torch for the PyTorch peer (default: python3, then /usr/bin/python3).")
    String python;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        List<BenchCell> plan = BenchArgs.plan(quick, shapes, cells);
        List<Integer> threadCounts = BenchArgs.threads(threads);
        List<String> peerNames = BenchArgs.peers(peers);
        List<String> precisionNames = BenchArgs.precisions(precisions);
        Sampler sampler = quick ? Sampler.quick() : Sampler.full();
        if (rounds != null) {
            if (rounds < 1) {
                throw new IllegalArgumentException("--rounds: expected a positive integer, got " + rounds);
            }
            sampler = new Sampler(sampler.warmupMs(), rounds, sampler.blockMs(), sampler.settleMs());
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out: expected a directory, got the file " + out);
        }
        // originalArgs() are the whole command line's arguments, the subcommand's name included.
        java.util.List<String> args = spec.commandLine().getParseResult().originalArgs();
        int at = args.indexOf("bench");
        String commandLine = "jrnn bench " + String.join(" ", at < 0 ? args : args.subList(at + 1, args.size()));
        Path work = Files.createDirectories(out).resolve(".work");
        BenchResults.Report report = BenchRunner.run(new BenchRunner.Plan(plan, threadCounts, peerNames, sampler,
                quick ? 300 : 2000, python, commandLine.trim(), precisionNames), work, stderr);
        stdout.print(BenchReport.table(report));
        stdout.flush();
        for (Path p : BenchReport.writeAll(report, out)) {
            stdout.println("wrote " + p);
        }
        BenchRunner.cleanUp(work);
        stdout.flush();
        return 0;
    }
}
