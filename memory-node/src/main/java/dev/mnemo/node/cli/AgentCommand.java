package dev.mnemo.node.cli;

import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.store.identity.AgentKey;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mnemo agent create|list|import|keygen}: the agents a node hosts, and agents' own key files. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Hosted agents: create, list, import; keygen for an agent's own key.",
    subcommands = {AgentCommand.Create.class, AgentCommand.ListAgents.class, AgentCommand.Import.class, AgentCommand.Keygen.class})
final class AgentCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** Which node: its data directory (stopped or running), or a running node's URL. */
  static final class Target {
    @Option(names = "--data", description = "the node's data directory (default ./mnemo-data)") Path data = Path.of("./mnemo-data");
    @Option(names = "--config", description = "the node's JSON config file (to find a running node's address)") Path config;
    @Option(names = "--node", description = "a running node's URL, e.g. http://127.0.0.1:7700 (default: found from --data)") String node;
    @Option(names = "--token", description = "the API token to act with (default: $MNEMO_TOKEN, else DATA/owner.token)") String token;

    AgentAdmin open() throws Exception {
      return AgentAdmin.locate(data, config, node, token());
    }

    /** The running node's API, for calls a stopped node's files cannot answer. */
    AgentAdmin.Online online() throws Exception {
      return AgentAdmin.online(data, config, node, token());
    }

    private String token() {
      return token != null ? token : System.getenv("MNEMO_TOKEN");
    }
  }

  /** Runs {@code work}, turning a user's mistake into one line on stderr and exit 1. */
  static int run(Target target, AdminWork work) throws Exception {
    return run(target::open, work);
  }

  /** As {@link #run(Target, AdminWork)}, on the admin {@code opener} opens (a running node's API, say). */
  static int run(Opener opener, AdminWork work) throws Exception {
    try (AgentAdmin admin = opener.open()) {
      work.run(admin);
      return 0;
    } catch (AgentAdmin.AdminException e) {
      System.err.println("mnemo: " + e.getMessage());
      return 1;
    }
  }

  interface Opener {
    AgentAdmin open() throws Exception;
  }

  interface AdminWork {
    void run(AgentAdmin admin) throws Exception;
  }

  static void printNewToken(AgentAdmin.NewToken issued) {
    System.out.println("agent " + issued.name() + " " + issued.did());
    System.out.println("token " + issued.token());
    System.err.println("(the token is shown this once; its id is " + issued.id() + ")");
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a hosted agent and print its did and first API token.")
  static final class Create implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "1-64 letters, digits, '.', '_' or '-'") String name;
    @Mixin Target target;

    @Override
    public Integer call() throws Exception {
      return run(target, admin -> printNewToken(admin.createAgent(name)));
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the hosted agents.")
  static final class ListAgents implements Callable<Integer> {
    @Mixin Target target;

    @Override
    public Integer call() throws Exception {
      return run(target, admin -> {
        for (AgentAdmin.Agent a : admin.agents()) {
          System.out.println(a.name() + "\t" + a.did() + "\t" + Instant.ofEpochMilli(a.created()) + (a.admin() ? "\tadmin" : ""));
        }
      });
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = "Host an agent whose key file exists (the same agent on several nodes); node stopped.")
  static final class Import implements Callable<Integer> {
    @Parameters(paramLabel = "NAME") String name;
    @Option(names = "--key", required = true, description = "the agent's key file") Path key;
    @Option(names = "--data", description = "the node's data directory (default ./mnemo-data)") Path data = Path.of("./mnemo-data");

    @Override
    public Integer call() throws Exception {
      Target offline = new Target();
      offline.data = data;
      return run(offline, admin -> {
        if (!(admin instanceof AgentAdmin.Offline registry)) {
          // The key would have to travel over HTTP; there is no call for that on purpose.
          throw new AgentAdmin.AdminException("the node on " + data + " is running; stop it to import a key");
        }
        printNewToken(registry.importAgent(name, AgentKeyFile.read(key).seed()));
      });
    }
  }

  @Command(name = "keygen", mixinStandardHelpOptions = true,
      description = "Write a new agent key to a file (owner-only) and print its did: an agent that keeps its own key.")
  static final class Keygen implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "the key file to create") Path out;

    @Override
    public Integer call() throws Exception {
      AgentKey key = AgentKey.generate();
      try {
        AgentKeyFile.write(out, key);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        System.err.println("mnemo: " + out + " exists; not overwriting a key");
        return 1;
      }
      System.out.println(key.did());
      return 0;
    }
  }
}
