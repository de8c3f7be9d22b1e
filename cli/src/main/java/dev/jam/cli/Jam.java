package dev.jam.cli;

import picocli.AutoComplete;
import picocli.CommandLine;

/** Builds jam's command line: the root, its subcommands, error handling and exit codes. */
final class Jam {
    private Jam() {}

    static CommandLine commandLine(Context context) {
        JamCommand root = new JamCommand();
        CommandLine commandLine = new CommandLine(root)
                .addSubcommand(new InitCommand(context))
                .addSubcommand(new IndexCommand(context))
                .addSubcommand(new MountCommand(context))
                .addSubcommand(new DaemonCommand(context))
                .addSubcommand(new ServiceCommand(context))
                .addSubcommand(new RefreshCommand(context))
                .addSubcommand(new FsckCommand(context))
                .addSubcommand(new DemoCommand(context))
                .addSubcommand(new ServeCommand(context))
                .addSubcommand(new ProfilesCommand(context))
                .addSubcommand(new StatusCommand(context))
                .addSubcommand(new LsCommand(context))
                .addSubcommand(new CheckoutCommand(context))
                .addSubcommand(new StashCommand(context))
                .addSubcommand(new VersionsCommand(context))
                .addSubcommand(new RestoreCommand(context))
                .addSubcommand(new AutoComplete.GenerateCompletion());
        Errors errors = new Errors(context.err(), () -> root.verbose);
        commandLine.setOut(context.out())
                .setErr(context.err())
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setExecutionStrategy(parseResult -> {
                    if (root.verbose) Logging.verbose();
                    return new CommandLine.RunLast().execute(parseResult);
                });
        documentExitCodes(commandLine);
        return commandLine;
    }

    /** Runs {@code args} and returns the exit code; never throws, never exits. */
    static int run(Context context, String... args) {
        try {
            return commandLine(context).execute(args);
        } finally {
            context.out().flush();
            context.err().flush();
        }
    }

    private static void documentExitCodes(CommandLine commandLine) {
        commandLine.getCommandSpec().usageMessage()
                .exitCodeListHeading("%nExit codes:%n")
                .exitCodeList(ExitCodes.table());
        commandLine.getSubcommands().values().forEach(Jam::documentExitCodes);
    }
}
