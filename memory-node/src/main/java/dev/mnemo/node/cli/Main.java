package dev.mnemo.node.cli;

import dev.mnemo.node.config.ConfigLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mnemo} command: {@code node}, {@code reindex}, {@code export}, {@code import}, {@code agent}, {@code token}, {@code delegate}, {@code grant}, {@code revoke}, {@code whoami}. */
@Command(name = "mnemo", mixinStandardHelpOptions = true, version = "mnemo 0.1.0",
    description = "Decentralized long-term memory for AI agents.",
    subcommands = {NodeCommand.class, ReindexCommand.class, ExportCommand.class, ImportCommand.class, AgentCommand.class,
        TokenCommand.class, DelegateCommand.class, GrantCommand.Grant.class, GrantCommand.Revoke.class, GrantCommand.Whoami.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  public static int run(String... args) {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(Main::configMistake).execute(args);
  }

  /** A configuration mistake is the user's to fix: one line and exit code 2, not a stack trace. */
  private static int configMistake(Exception e, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
    if (e instanceof ConfigLoader.ConfigException mistake) {
      System.err.println("mnemo: " + mistake.getMessage());
      return 2;
    }
    throw e;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
