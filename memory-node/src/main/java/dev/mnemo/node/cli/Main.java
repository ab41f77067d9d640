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

  /**
   * What the operator fixes gets one line, not a stack trace: a configuration mistake (exit code
   * 2), a node that cannot start, a data directory another process holds, a block store that does
   * not answer (exit code 1). Anything else is a fault of Mnemo's and keeps its stack trace.
   */
  private static int configMistake(Exception e, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
    if (e instanceof ConfigLoader.ConfigException mistake) {
      System.err.println("mnemo: " + mistake.getMessage());
      return 2;
    }
    if (e instanceof dev.mnemo.store.DataDirectoryInUseException inUse) {
      System.err.println("mnemo: " + inUse.getMessage() + (command.getCommandName().equals("node")
          ? ": is a node already running on it? Give this one another --data"
          : ": stop the node first (a running node exports and imports over its HTTP API, see README)"));
      return 1;
    }
    if (e instanceof dev.mnemo.node.StartupException || e instanceof dev.mnemo.store.block.BlockStoreUnavailableException) {
      System.err.println("mnemo: " + e.getMessage());
      return 1;
    }
    throw e;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
