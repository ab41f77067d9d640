package dev.mnemo.node.cli;

import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Namespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mnemo delegate}: an agent that keeps its own key lets a node write as it. Signs a
 * delegation ({@link Delegation}: issuer the key file's agent, audience the node) offline, and
 * prints it as unpadded base64url of its DAG-CBOR (and writes the raw bytes with {@code --out}).
 */
@Command(name = "delegate", mixinStandardHelpOptions = true,
    description = "Sign a delegation from an agent's key file to a node: the node may then write as the agent.")
final class DelegateCommand implements Callable<Integer> {
  @Option(names = "--key", required = true, description = "the agent's key file (mnemo agent keygen)") Path key;
  @Option(names = "--to", required = true, description = "the node's did:key (GET /v1/node: id)") String to;
  @Option(names = "--ns", required = true, description = "the namespace, or * for every namespace") String ns;
  @Option(names = "--can", required = true, split = ",", description = "abilities: read, remember, forget, admin, replicate")
  java.util.List<String> can;
  @Option(names = "--out", description = "also write the delegation's DAG-CBOR bytes to this file") Path out;

  @Override
  public Integer call() throws Exception {
    DidKey audience;
    try {
      audience = DidKey.parse(to);
    } catch (InvalidFormatException e) {
      return usage("--to: " + e.getMessage());
    }
    if (!ns.equals(Delegation.ANY_NAMESPACE) && !Namespace.isValid(ns)) {
      return usage("--ns: '" + ns + "' is not a namespace name or *");
    }
    Set<Ability> abilities = EnumSet.noneOf(Ability.class);
    try {
      for (String ability : can) {
        abilities.add(Ability.fromWire(ability.strip()));
      }
    } catch (IllegalArgumentException e) {
      return usage("--can: " + e.getMessage());
    }
    AgentKey issuer;
    try {
      issuer = AgentKeyFile.read(key);
    } catch (java.io.IOException e) {
      System.err.println("mnemo: cannot read the key file: " + e.getMessage());
      return 1;
    }
    Delegation delegation = Delegation.sign(issuer, audience, ns, abilities);
    byte[] bytes = delegation.encode();
    if (out != null) {
      Files.write(out, bytes);
    }
    System.out.println(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    System.err.println("delegation from " + issuer.did() + " to " + audience + ": " + Ability.wireList(abilities)
        + " in " + (ns.equals(Delegation.ANY_NAMESPACE) ? "every namespace" : ns));
    return 0;
  }

  private static int usage(String message) {
    System.err.println("mnemo: " + message);
    return 2;
  }
}
