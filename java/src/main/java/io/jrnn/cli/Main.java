package io.jrnn.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jrnn} command. Without arguments it runs the demo: batch inference on the bundled
 * default model. Every failure exits non-zero with one line on stderr: 1 for a failed run, 2 for
 * a usage error; the stack trace follows only with {@code --debug} (any position) or
 * {@code -Djrnn.debug=true}. Files are written atomically (temporary file moved into place).
 */
@Command(name = "jrnn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Keras-exact recurrent networks on oneDNN. Without a command: run the demo on the bundled model.",
        subcommands = {DemoCommand.class, PredictCommand.class, InspectCommand.class, EnvCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "On failure, print the stack trace after the one-line message.")
    boolean debug;

    @Override
    public Integer call() {
        return spec.commandLine().getSubcommands().get("demo").execute();
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code (tests call this; it never exits the JVM). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        try {
            return commandLine(out, err).execute(args);
        } catch (Error e) {
            // picocli hands only Exceptions to the handler; an Error (out of memory, stack overflow) still gets one line.
            err.println("jrnn: " + oneLine(e));
            if (Boolean.getBoolean("jrnn.debug") || java.util.Arrays.asList(args).contains("--debug")) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        // One clear line on stderr for any failure; the stack trace only with --debug or -Djrnn.debug=true.
        CommandLine.IExecutionExceptionHandler onError = (ex, commandLine, parseResult) -> {
            commandLine.getErr().println("jrnn " + commandLine.getCommandName() + ": " + oneLine(ex));
            if (debug(parseResult)) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        };
        // Usage errors: one line and where to find help, instead of the whole usage text.
        CommandLine.IParameterExceptionHandler onUsageError = (ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("jrnn " + c.getCommandName() + ": " + ex.getMessage().replace('\n', ' ') + " (see: "
                    + c.getCommandSpec().qualifiedName() + " --help)");
            if (Boolean.getBoolean("jrnn.debug") || java.util.Arrays.asList(args).contains("--debug")) {
                ex.printStackTrace(c.getErr());
            }
            c.getErr().flush();
            return 2;
        };
        cli.setExecutionExceptionHandler(onError);
        cli.setParameterExceptionHandler(onUsageError);
        for (CommandLine sub : cli.getSubcommands().values()) {
            sub.setOut(out);
            sub.setErr(err);
            sub.setExecutionExceptionHandler(onError);
            sub.setParameterExceptionHandler(onUsageError);
        }
        return cli;
    }

    private static boolean debug(CommandLine.ParseResult parseResult) {
        if (Boolean.getBoolean("jrnn.debug")) {
            return true;
        }
        for (CommandLine.ParseResult r = parseResult; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    static String oneLine(Throwable ex) {
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        if (ex instanceof java.io.UncheckedIOException && ex.getCause() != null && msg.contains(ex.getCause().toString())) {
            // "Cannot write X: java.nio.file.AccessDeniedException: X" reads fine without the wrapper's name.
        } else if (!(ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof io.jrnn.UnsupportedConfigurationException || ex instanceof java.io.UncheckedIOException)) {
            msg = ex.getClass().getSimpleName() + ": " + msg;
        }
        return msg.replace('\r', ' ').replace('\n', ' ');
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
