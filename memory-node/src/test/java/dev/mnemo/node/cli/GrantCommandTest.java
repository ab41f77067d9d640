package dev.mnemo.node.cli;

import static dev.mnemo.node.cli.AgentCommandTest.mnemo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.cli.AgentCommandTest.Run;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mnemo grant}, {@code mnemo revoke} and {@code mnemo whoami} against a running node. */
class GrantCommandTest {
  @TempDir Path dir;

  @Test
  void theOwnerGrantsAndRevokesFromTheCommandLine() {
    Path data = dir.resolve("data");
    try (TestNode node = TestNode.start(data, TestNode.NONE)) {
      ApiClient owner = node.api();
      String url = owner.baseUrl();
      owner.remember("notes", Map.of("text", "the owner's note", "vector", TestVectors.random(1)));
      Run created = mnemo("agent", "create", "bob", "--data", data.toString(), "--node", url);
      assertThat(created.exit()).as("%s", created).isZero();
      String bobDid = created.line("agent bob ").split(" ")[2];
      String bobToken = created.line("token ").split(" ")[1];
      ApiClient bob = owner.withToken(bobToken);
      assertThat(bob.get("/v1/namespaces/notes/memories").status()).isEqualTo(403);

      // the owner's token by default, from DATA/owner.token
      Run granted = mnemo("grant", "--ns", "notes", "--to", bobDid, "--can", "read, remember", "--data", data.toString(), "--node", url);
      assertThat(granted.exit()).as("%s", granted).isZero();
      assertThat(granted.out()).startsWith("granted read,remember to " + bobDid + " in notes (entry bafyrei");
      assertThat(bob.listAll("notes")).hasSize(1);
      bob.remember("notes", Map.of("text", "bob's", "vector", TestVectors.random(2)));

      Run revoked = mnemo("revoke", "--ns", "notes", "--to", bobDid, "--can", "remember", "--data", data.toString(), "--node", url);
      assertThat(revoked.exit()).as("%s", revoked).isZero();
      assertThat(bob.post("/v1/namespaces/notes/memories", Map.of("text", "no", "vector", TestVectors.random(3))).status()).isEqualTo(403);
      assertThat(bob.listAll("notes")).hasSize(2);

      // bob's own token: he may not grant; the node's refusal is one line and exit 1
      Run refused = mnemo("grant", "--ns", "notes", "--to", bobDid, "--can", "admin", "--node", url, "--token", bobToken);
      assertThat(refused.exit()).as("%s", refused).isEqualTo(1);
      assertThat(refused.err()).contains("403").doesNotContain("Exception");
      Run owners = mnemo("revoke", "--ns", "notes", "--to", owner.getJson("/v1/whoami").path("did").asText(), "--can", "read",
          "--data", data.toString(), "--node", url);
      assertThat(owners.exit()).as("%s", owners).isEqualTo(1);
      assertThat(owners.err()).contains("422");

      // mistakes caught before any call
      assertThat(mnemo("grant", "--ns", "notes", "--to", "bob", "--can", "read", "--node", url).exit()).isEqualTo(2);
      assertThat(mnemo("grant", "--ns", "notes", "--to", bobDid, "--can", "fly", "--node", url).exit()).isEqualTo(2);
      assertThat(mnemo("grant", "--ns", "no such", "--to", bobDid, "--can", "read", "--node", url).exit()).isEqualTo(2);

      Run me = mnemo("whoami", "--node", url, "--token", bobToken);
      assertThat(me.exit()).as("%s", me).isZero();
      assertThat(me.out().strip()).isEqualTo("bob\t" + bobDid);
      Run root = mnemo("whoami", "--data", data.toString(), "--node", url);
      assertThat(root.out()).startsWith("owner\tdid:key:").contains("\tadmin");
    }
  }
}
