package dev.mnemo.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Namespace;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mnemo grant}, {@code mnemo revoke} and {@code mnemo whoami}: a running node's grant API
 * (README "Namespaces and grants"), as the owner agent by default. Grants live in the namespace's
 * log, which only a running node writes, so these always go through its API.
 */
final class GrantCommand {
  private GrantCommand() {}

  /** What a grant or revoke names, checked here so that a typo is a usage error, not a round trip. */
  static final class Change {
    @Option(names = "--ns", required = true, description = "the namespace") String ns;
    @Option(names = "--to", required = true, description = "the agent's (or node's) did:key") String to;
    @Option(names = "--can", required = true, split = ",", description = "abilities: read, remember, forget, admin, replicate")
    List<String> can;

    /** The abilities' wire names, or null after printing what is wrong. */
    List<String> checked() {
      if (!Namespace.isValid(ns)) {
        return usage("--ns: '" + ns + "' is not a namespace name");
      }
      try {
        DidKey.parse(to);
      } catch (InvalidFormatException e) {
        return usage("--to: " + e.getMessage());
      }
      Set<String> abilities = new LinkedHashSet<>();
      try {
        for (String ability : can) {
          abilities.add(Ability.fromWire(ability.strip()).wire());
        }
      } catch (IllegalArgumentException e) {
        return usage("--can: " + e.getMessage());
      }
      return new ArrayList<>(abilities);
    }

    private static List<String> usage(String message) {
      System.err.println("mnemo: " + message);
      return null;
    }
  }

  private static int change(AgentCommand.Target target, Change change, boolean revoke) throws Exception {
    List<String> can = change.checked();
    if (can == null) {
      return 2;
    }
    return AgentCommand.run(target::online, admin -> {
      String entry = ((AgentAdmin.Online) admin).grant(change.ns, change.to, can, revoke);
      System.out.println((revoke ? "revoked " : "granted ") + String.join(",", can) + (revoke ? " from " : " to ") + change.to
          + " in " + change.ns + " (entry " + entry + ")");
    });
  }

  @Command(name = "grant", mixinStandardHelpOptions = true,
      description = "Grant an agent abilities in a namespace (you need admin there; the owner has it).")
  static final class Grant implements Callable<Integer> {
    @Mixin Change change;
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return change(target, change, false);
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke abilities of an agent in a namespace (not the owner's: an owner keeps every ability).")
  static final class Revoke implements Callable<Integer> {
    @Mixin Change change;
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return change(target, change, true);
    }
  }

  @Command(name = "whoami", mixinStandardHelpOptions = true, description = "Print the agent a token acts as: name, did, admin.")
  static final class Whoami implements Callable<Integer> {
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return AgentCommand.run(target::online, admin -> {
        JsonNode me = ((AgentAdmin.Online) admin).whoami();
        System.out.println(me.path("name").asText() + "\t" + me.path("did").asText() + (me.path("admin").asBoolean() ? "\tadmin" : ""));
      });
    }
  }
}
