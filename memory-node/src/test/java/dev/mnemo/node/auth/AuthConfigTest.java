package dev.mnemo.node.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The authentication keys of the node's config: secure defaults, and clear errors. */
class AuthConfigTest {
  @TempDir Path dir;

  @Test
  void authenticationIsOnByDefaultWithNoCorsAndNoExtraHosts() throws Exception {
    AuthConfig auth = ConfigLoader.load(null, Map.of(), Map.of()).auth();
    assertThat(auth.enabled()).isTrue();
    assertThat(auth.ownerKeyFile()).isNull();
    assertThat(auth.allowedHosts()).isEmpty();
    assertThat(auth.corsOrigins()).isEmpty();
    assertThat(auth.failuresPerMinute()).isEqualTo(AuthConfig.DEFAULT_FAILURES_PER_MINUTE);
  }

  @Test
  void keysComeFromTheFileTheEnvironmentAndFlags() throws Exception {
    Path file = dir.resolve("mnemo.json");
    Files.writeString(file, "{\"auth\": false, \"allowedHosts\": [\"mnemo.example\", \"[fd00::1]\"],"
        + " \"corsOrigins\": \"https://app.example\", \"authFailuresPerMinute\": 5, \"ownerKeyFile\": \"/keys/owner.key\"}");
    NodeConfig fromFile = ConfigLoader.load(file, Map.of(), Map.of());
    assertThat(fromFile.auth()).isEqualTo(new AuthConfig(false, Path.of("/keys/owner.key"), List.of("mnemo.example", "[fd00::1]"),
        List.of("https://app.example"), 5));
    NodeConfig fromEnv = ConfigLoader.load(file, Map.of("MNEMO_AUTH", "true", "MNEMO_ALLOWED_HOSTS", "a.example,b.example",
        "MNEMO_OWNER_KEY_FILE", "/other.key"), Map.of());
    assertThat(fromEnv.auth().enabled()).isTrue();
    assertThat(fromEnv.auth().allowedHosts()).containsExactly("a.example", "b.example");
    assertThat(fromEnv.auth().ownerKeyFile()).isEqualTo(Path.of("/other.key"));
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("auth", "false")).auth().enabled()).isFalse();
  }

  @Test
  void badValuesAreErrorsNamingTheKey() {
    for (Map<String, String> bad : List.of(Map.of("auth", "off"), Map.of("auth", "yes"), Map.of("allowedHosts", "mnemo.example:7700"),
        Map.of("allowedHosts", "http://mnemo.example"), Map.of("corsOrigins", "app.example"),
        Map.of("corsOrigins", "https://app.example/path"), Map.of("corsOrigins", "*"), Map.of("authFailuresPerMinute", "0"))) {
      String key = bad.keySet().iterator().next();
      assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), bad)).as("%s", bad)
          .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining(key);
    }
  }
}
