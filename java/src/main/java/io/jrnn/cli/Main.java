package io.jrnn.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jrnn} command. Without arguments it runs the demo: batch inference on the bundled
 * default model. Every failure exits non-zero with one line on stderr.
 */
@Command(name = "jrnn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Keras-exact recurrent networks on oneDNN. Without a command: run the demo on the bundled model.",
        subcommands = {DemoCommand.class, PredictCommand.class, InspectCommand.class, EnvCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return spec.commandLine().getSubcommands().get("demo").execute();
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code (tests call this; it never exits the JVM). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(out, err).execute(args);
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        // One clear line on stderr for any failure; the stack trace only with -Djrnn.debug=true.
        CommandLine.IExecutionExceptionHandler onError = (ex, commandLine, parseResult) -> {
            commandLine.getErr().println("jrnn " + commandLine.getCommandName() + ": " + oneLine(ex));
            if (Boolean.getBoolean("jrnn.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        };
        cli.setExecutionExceptionHandler(onError);
        for (CommandLine sub : cli.getSubcommands().values()) {
            sub.setOut(out);
            sub.setErr(err);
            sub.setExecutionExceptionHandler(onError);
        }
        return cli;
    }

    static String oneLine(Throwable ex) {
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        if (!(ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof io.jrnn.UnsupportedConfigurationException)) {
            msg = ex.getClass().getSimpleName() + ": " + msg;
        }
        return msg.replace('\n', ' ');
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jrnn " + (v == null ? "(development build)" : v)};
        }
    }
}
