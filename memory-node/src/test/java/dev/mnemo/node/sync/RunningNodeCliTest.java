package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mnemo agent create} in its own process beside a running node on the same data directory:
 * it finds the node by the store's lock and asks it over HTTP with the owner's token, rather than
 * editing the file the node keeps in memory. And the node's start-up line says where that token is.
 */
@ExtendWith(NodeLogsOnFailure.class)
class RunningNodeCliTest {
  @TempDir Path dir;

  @Test
  void theCliFindsARunningNodeByItsLockAndUsesItsAdminCalls() throws Exception {
    try (NodeProcess node = NodeProcess.create("cli-node", dir.resolve("data"), List.of(), Map.of()).start()) {
      String tokenFile = dir.resolve("data").resolve("owner.token").toAbsolutePath().normalize().toString();
      Await.until(java.time.Duration.ofSeconds(10), "the start-up line", () -> node.log().contains("owner token in " + tokenFile),
          () -> node.logTail(20));

      Cli created = cli(Map.of("MNEMO_PORT", Integer.toString(node.httpPort())), "agent", "create", "carol",
          "--data", node.dataDir().toString());
      assertThat(created.exit()).as("%s", created).isZero();
      String token = created.out().lines().filter(l -> l.startsWith("token ")).findFirst().orElseThrow().split(" ")[1];
      JsonNode agents = node.api().getJson("/v1/agents").path("agents");
      assertThat(agents.findValuesAsText("name")).contains("carol");
      ApiClient carol = node.api().withToken(token);
      assertThat(carol.get("/v1/namespaces/x/memories").status()).isEqualTo(200);

      Cli imported = cli(Map.of(), "agent", "import", "dave", "--key", dir.resolve("none.key").toString(),
          "--data", node.dataDir().toString());
      assertThat(imported.exit()).as("%s", imported).isEqualTo(1);
      assertThat(imported.err()).contains("running");
    }
  }

  /** Authentication off is for development only, and the node says so at every start. */
  @Test
  void aNodeWithoutAuthenticationWarnsAtEveryStart() {
    try (NodeProcess node = NodeProcess.create("open-node", dir.resolve("open"), List.of(), Map.of("MNEMO_AUTH", "false")).start()) {
      Await.until(java.time.Duration.ofSeconds(10), "the warning", () -> node.log().contains("AUTHENTICATION IS OFF"), () -> node.logTail(20));
      assertThat(new ApiClient(node.httpPort()).get("/v1/namespaces/x/memories").status()).isEqualTo(200);
      node.stop();
      node.start();
      Await.until(java.time.Duration.ofSeconds(10), "the warning again",
          () -> node.log().split("AUTHENTICATION IS OFF", -1).length == 3, () -> node.logTail(20));
    }
  }

  record Cli(int exit, String out, String err) {}

  private static Cli cli(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add("-cp");
    command.add(ClasspathSnapshot.get());
    command.add("dev.mnemo.node.cli.Main");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    byte[] out = process.getInputStream().readAllBytes();
    byte[] err = process.getErrorStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
