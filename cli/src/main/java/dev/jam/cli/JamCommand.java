package dev.jam.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code jam}: the root command. Alone, it shows the usage. */
@Command(name = "jam", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"The whole remote tree on your laptop; content is fetched when you open it.", ""},
        commandListHeading = "%nCommands:%n",
        footerHeading = "%n",
        footer = {"Profiles live in $XDG_CONFIG_HOME/jam/profiles (default ~/.config/jam/profiles).",
                "Run 'jam COMMAND --help' for a command's options."})
final class JamCommand implements Callable<Integer> {

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show debug logs, and the stack trace of an error.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }
}
