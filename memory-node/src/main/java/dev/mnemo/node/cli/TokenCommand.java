package dev.mnemo.node.cli;

import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code mnemo token list|issue|revoke}: API tokens of the hosted agents. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "API tokens: list, issue, revoke.",
    subcommands = {TokenCommand.ListTokens.class, TokenCommand.Issue.class, TokenCommand.Revoke.class})
final class TokenCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (ids only; secrets are never stored).")
  static final class ListTokens implements Callable<Integer> {
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return AgentCommand.run(target, admin -> {
        for (AgentAdmin.Token t : admin.tokens()) {
          System.out.println(t.id() + "\t" + t.agentName() + "\t" + t.agentDid() + "\t" + Instant.ofEpochMilli(t.created())
              + (t.revoked() ? "\trevoked" : ""));
        }
      });
    }
  }

  @Command(name = "issue", mixinStandardHelpOptions = true, description = "Issue another token to an agent and print it once.")
  static final class Issue implements Callable<Integer> {
    @Parameters(paramLabel = "AGENT", description = "the agent's name") String agent;
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return AgentCommand.run(target, admin -> AgentCommand.printNewToken(admin.issueToken(agent)));
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token by its id.")
  static final class Revoke implements Callable<Integer> {
    @Parameters(paramLabel = "ID") String id;
    @Mixin AgentCommand.Target target;

    @Override
    public Integer call() throws Exception {
      return AgentCommand.run(target, admin -> {
        AgentAdmin.Token t = admin.revokeToken(id);
        System.out.println("revoked " + t.id() + " of " + t.agentName());
      });
    }
  }
}
