package dev.mnemo.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.node.auth.AgentRegistry;
import dev.mnemo.node.auth.HostedAgent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mnemo agent ...} and {@code mnemo token ...} on a stopped node's files and through a running node. */
class AgentCommandTest {
  @TempDir Path dir;

  record Run(int exit, String out, String err) {
    String line(String prefix) {
      return out.lines().filter(l -> l.startsWith(prefix)).findFirst()
          .orElseThrow(() -> new AssertionError("no line starting with '" + prefix + "' in:\n" + out + "\n" + err));
    }
  }

  static synchronized Run mnemo(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void onAStoppedNodeTheCommandsEditItsAgentsFile() throws Exception {
    Path data = dir.resolve("data");
    TestNode.start(data, TestNode.NONE).close();

    Run created = mnemo("agent", "create", "alice", "--data", data.toString());
    assertThat(created.exit()).as("%s", created).isZero();
    String did = created.line("agent alice ").split(" ")[2];
    String token = created.line("token ").split(" ")[1];
    assertThat(token).startsWith("mnemo_");
    assertThat(mnemo("agent", "create", "alice", "--data", data.toString()).exit()).isEqualTo(1);
    assertThat(mnemo("agent", "create", "not a name", "--data", data.toString()).exit()).isEqualTo(1);

    Run agents = mnemo("agent", "list", "--data", data.toString());
    assertThat(agents.out()).contains("owner\t").contains("alice\t" + did);
    Run issued = mnemo("token", "issue", "alice", "--data", data.toString());
    assertThat(issued.exit()).isZero();
    String second = issued.line("token ").split(" ")[1];
    assertThat(mnemo("token", "issue", "nobody", "--data", data.toString()).exit()).isEqualTo(1);

    Run tokens = mnemo("token", "list", "--data", data.toString());
    String id = token.split("_")[1];
    assertThat(tokens.out()).contains(id + "\talice\t" + did).doesNotContain(secretOf(token));
    Run revoked = mnemo("token", "revoke", id, "--data", data.toString());
    assertThat(revoked.exit()).as("%s", revoked).isZero();
    assertThat(mnemo("token", "revoke", "ffffffffffffffff", "--data", data.toString()).exit()).isEqualTo(1);

    try (TestNode node = TestNode.start(data, TestNode.NONE)) {
      ApiClient api = node.api();
      assertThat(api.withToken(token).get("/v1/namespaces/a/memories").status()).isEqualTo(401);
      ApiClient alice = api.withToken(second);
      alice.remember("alices", Map.of("text", "hello", "vector", TestVectors.random(1)));
      assertThat(node.node().agents().agent("alice").map(HostedAgent::did).map(Object::toString)).contains(did);
    }
  }

  @Test
  void onARunningNodeTheCommandsUseItsAdminCalls() throws Exception {
    Path data = dir.resolve("running");
    try (TestNode node = TestNode.start(data, TestNode.NONE)) {
      String url = "http://127.0.0.1:" + node.node().port();
      Run created = mnemo("agent", "create", "bob", "--data", data.toString(), "--node", url);
      assertThat(created.exit()).as("%s", created).isZero();
      String token = created.line("token ").split(" ")[1];
      // the running node knows bob at once: its registry was not edited behind its back
      assertThat(node.node().agents().authenticate(token)).map(HostedAgent::name).contains("bob");
      assertThat(mnemo("agent", "list", "--data", data.toString(), "--node", url).out()).contains("bob\t");
      assertThat(mnemo("token", "list", "--data", data.toString(), "--node", url).out()).contains(token.split("_")[1] + "\tbob");
      assertThat(mnemo("token", "revoke", token.split("_")[1], "--data", data.toString(), "--node", url).exit()).isZero();
      assertThat(node.node().agents().authenticate(token)).isEmpty();
      Run refused = mnemo("agent", "create", "eve", "--node", url, "--token", "mnemo_0000000000000000_nope");
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("401");
      assertThat(node.node().agents().agent("eve")).isEmpty();
    }
  }

  @Test
  void aDirectoryNoNodeHasStartedOnIsRefused() {
    Run run = mnemo("agent", "create", "alice", "--data", dir.resolve("empty").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("no node has started");
  }

  @Test
  void keygenAndImportHostAnAgentWhoseKeyExists() throws Exception {
    Path key = dir.resolve("alice.key");
    Run keygen = mnemo("agent", "keygen", "--out", key.toString());
    assertThat(keygen.exit()).isZero();
    String did = keygen.out().strip();
    assertThat(AgentKeyFile.read(key).did().toString()).isEqualTo(did);
    assertThat(mnemo("agent", "keygen", "--out", key.toString()).exit()).isEqualTo(1);

    Path data = dir.resolve("data");
    TestNode.start(data, TestNode.NONE).close();
    Run imported = mnemo("agent", "import", "alice", "--key", key.toString(), "--data", data.toString());
    assertThat(imported.exit()).as("%s", imported).isZero();
    assertThat(imported.line("agent alice ")).endsWith(did);
    assertThat(AgentRegistry.open(data).agent("alice").map(HostedAgent::did).map(Object::toString)).contains(did);
  }

  @Test
  void delegateSignsADelegationFromAKeyFileToANode() throws Exception {
    Path key = dir.resolve("self.key");
    assertThat(mnemo("agent", "keygen", "--out", key.toString()).exit()).isZero();
    dev.mnemo.store.identity.AgentKey agent = AgentKeyFile.read(key);
    dev.mnemo.store.identity.DidKey node = dev.mnemo.store.identity.AgentKey.generate().did();
    Path out = dir.resolve("d.cbor");
    Run run = mnemo("delegate", "--key", key.toString(), "--to", node.toString(), "--ns", "diary", "--can", "remember,forget",
        "--out", out.toString());
    assertThat(run.exit()).as("%s", run).isZero();
    byte[] printed = java.util.Base64.getUrlDecoder().decode(run.out().strip());
    assertThat(java.nio.file.Files.readAllBytes(out)).isEqualTo(printed);
    dev.mnemo.store.acl.Delegation d = dev.mnemo.store.acl.Delegation.decodeVerified(printed);
    assertThat(d.iss()).isEqualTo(agent.did());
    assertThat(d.aud()).isEqualTo(node);
    assertThat(d.sub()).isEqualTo("diary");
    assertThat(d.can()).containsExactlyInAnyOrder(dev.mnemo.store.acl.Ability.REMEMBER, dev.mnemo.store.acl.Ability.FORGET);
    assertThat(d.covers("diary", dev.mnemo.store.acl.Ability.REMEMBER)).isTrue();
    assertThat(d.covers("other", dev.mnemo.store.acl.Ability.REMEMBER)).isFalse();

    Run everywhere = mnemo("delegate", "--key", key.toString(), "--to", node.toString(), "--ns", "*", "--can", "read");
    assertThat(everywhere.exit()).isZero();
    assertThat(dev.mnemo.store.acl.Delegation.decodeVerified(java.util.Base64.getUrlDecoder().decode(everywhere.out().strip())).sub())
        .isEqualTo("*");

    assertThat(mnemo("delegate", "--key", key.toString(), "--to", "did:key:nope", "--ns", "a", "--can", "read").exit()).isEqualTo(2);
    assertThat(mnemo("delegate", "--key", key.toString(), "--to", node.toString(), "--ns", "-bad", "--can", "read").exit()).isEqualTo(2);
    assertThat(mnemo("delegate", "--key", key.toString(), "--to", node.toString(), "--ns", "a", "--can", "fly").exit()).isEqualTo(2);
    assertThat(mnemo("delegate", "--key", dir.resolve("missing.key").toString(), "--to", node.toString(), "--ns", "a",
        "--can", "read").exit()).isEqualTo(1);
  }

  /**
   * The secret of a {@code mnemo_<id>_<secret>} token. Not after its last '_': the secret is
   * base64url and may hold one, which left a single character that the listing did contain.
   */
  private static String secretOf(String token) {
    return token.substring(dev.mnemo.node.auth.AgentRegistry.TOKEN_PREFIX.length() + 16 + 1);
  }
}
