package dev.mnemo.node.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentRegistryTest {
  @TempDir Path data;

  @Test
  void agentsAndTokensSurviveAReopen() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken owner = registry.createOwnerIfAbsent(null).orElseThrow();
    IssuedToken alice = registry.createAgent("alice");
    IssuedToken alice2 = registry.issueToken("alice");
    registry.revokeToken(alice.id());
    IssuedToken bob = registry.importAgent("bob", AgentKey.generate().seed());

    AgentRegistry reopened = AgentRegistry.open(data);
    assertThat(reopened.agents()).extracting(HostedAgent::name).containsExactly("owner", "alice", "bob");
    assertThat(reopened.agent("alice").orElseThrow().did()).isEqualTo(alice.agent().did());
    assertThat(reopened.agent("alice").orElseThrow().key().seed()).isEqualTo(alice.agent().key().seed());
    assertThat(reopened.agent("owner").orElseThrow().admin()).isTrue();
    assertThat(reopened.agent("alice").orElseThrow().admin()).isFalse();
    assertThat(reopened.tokens()).extracting(ApiToken::id).containsExactly(owner.id(), alice.id(), alice2.id(), bob.id());
    assertThat(reopened.tokens()).filteredOn(ApiToken::revoked).extracting(ApiToken::id).containsExactly(alice.id());

    assertThat(reopened.authenticate(owner.token())).map(HostedAgent::name).contains("owner");
    assertThat(reopened.authenticate(alice.token())).isEmpty();
    assertThat(reopened.authenticate(alice2.token())).map(HostedAgent::name).contains("alice");
    assertThat(reopened.authenticate(bob.token())).map(HostedAgent::did).contains(bob.agent().did());
    // a second start does not make another owner
    assertThat(reopened.createOwnerIfAbsent(null)).isEmpty();
  }

  @Test
  void tokensCarry256RandomBitsAndOnlyTheirHashIsStored() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken token = registry.createAgent("alice");
    assertThat(token.token()).matches("mnemo_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");
    assertThat(token.token()).startsWith("mnemo_" + token.id() + "_");
    String secret = token.token().substring(("mnemo_" + token.id() + "_").length());
    assertThat(java.util.Base64.getUrlDecoder().decode(secret)).hasSize(32);
    String file = new String(Files.readAllBytes(registry.file()), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(file).doesNotContain(secret);
    assertThat(registry.createAgent("bob").token()).isNotEqualTo(token.token());
  }

  @Test
  void refusesWrongMalformedUnknownAndRevokedTokens() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken token = registry.createAgent("alice");
    String t = token.token();
    String prefix = "mnemo_" + token.id() + "_";
    String secret = t.substring(prefix.length());
    char flipped = secret.charAt(0) == 'A' ? 'B' : 'A';
    for (String bad : List.of("", "mnemo_", "mnemo__", "mnemo_" + token.id(), prefix, prefix + flipped + secret.substring(1),
        prefix + secret.substring(1), prefix + secret + "x", "mnemo_0000000000000000_" + secret, t.toUpperCase(),
        "Bearer " + t, t + " ", "x" + t, prefix + secret + "_".repeat(200))) {
      assertThat(registry.authenticate(bad)).as(bad).isEmpty();
    }
    assertThat(registry.authenticate(null)).isEmpty();
    assertThat(registry.authenticate(t)).isPresent();
    assertThat(registry.revokeToken(token.id()).revoked()).isTrue();
    assertThat(registry.authenticate(t)).isEmpty();
    assertThat(registry.revokeToken(token.id()).revoked()).isTrue();
    assertThatThrownBy(() -> registry.revokeToken("0000000000000000")).isInstanceOf(NoSuchElementException.class);
    assertThatThrownBy(() -> registry.issueToken("nobody")).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  void namesAndKeysAreUnique() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken alice = registry.createAgent("alice");
    assertThatThrownBy(() -> registry.createAgent("alice")).isInstanceOf(AgentRegistry.DuplicateAgentException.class);
    assertThatThrownBy(() -> registry.importAgent("alice2", alice.agent().key().seed()))
        .isInstanceOf(AgentRegistry.DuplicateAgentException.class).hasMessageContaining("alice");
    for (String bad : List.of("", "-x", ".x", "a b", "a/b", "x".repeat(65), "é")) {
      assertThatThrownBy(() -> registry.createAgent(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(registry.agents()).hasSize(1);
  }

  @Test
  void theSameAgentCanBeHostedOnTwoNodes(@TempDir Path other) throws Exception {
    AgentKey key = AgentKey.generate();
    Path keyFile = other.resolve("owner.key");
    AgentKeyFile.write(keyFile, key);
    AgentRegistry first = AgentRegistry.open(data);
    AgentRegistry second = AgentRegistry.open(other.resolve("n2"));
    IssuedToken a = first.createOwnerIfAbsent(AgentKeyFile.read(keyFile)).orElseThrow();
    IssuedToken b = second.createOwnerIfAbsent(AgentKeyFile.read(keyFile)).orElseThrow();
    assertThat(a.agent().did()).isEqualTo(key.did()).isEqualTo(b.agent().did());
    // each node issued its own token
    assertThat(first.authenticate(b.token())).isEmpty();
    assertThat(second.authenticate(b.token())).isPresent();
  }

  @Test
  void filesAreOwnerOnly() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken owner = registry.createOwnerIfAbsent(null).orElseThrow();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(registry.file()))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(registry.ownerTokenFile()))).isEqualTo("rw-------");
    assertThat(Files.readString(registry.ownerTokenFile()).strip()).isEqualTo(owner.token());
    registry.createAgent("alice");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(registry.file()))).isEqualTo("rw-------");
    assertThat(Files.exists(registry.file().resolveSibling(AgentRegistry.FILE_NAME + ".tmp"))).isFalse();
    Path key = data.resolve("k.key");
    AgentKeyFile.write(key, AgentKey.generate());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    assertThatThrownBy(() -> AgentKeyFile.write(key, AgentKey.generate())).isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
  }

  @Test
  void everyDamagedByteIsRefusedNamingTheFile() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    registry.createOwnerIfAbsent(null);
    registry.createAgent("alice");
    byte[] good = Files.readAllBytes(registry.file());
    java.util.Random random = new java.util.Random(17);
    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= (byte) (1 << random.nextInt(8));
      Files.write(registry.file(), bad);
      assertThatThrownBy(() -> AgentRegistry.open(data)).as("byte %d flipped", i)
          .isInstanceOf(InvalidFormatException.class).hasMessageContaining(registry.file().toString());
    }
    Files.write(registry.file(), java.util.Arrays.copyOf(good, good.length - 1));
    assertThatThrownBy(() -> AgentRegistry.open(data)).isInstanceOf(InvalidFormatException.class);
    Files.write(registry.file(), new byte[0]);
    assertThatThrownBy(() -> AgentRegistry.open(data)).isInstanceOf(InvalidFormatException.class);
    Files.write(registry.file(), good);
    assertThat(AgentRegistry.open(data).agents()).hasSize(2);
  }

  @Test
  void aLaterVersionIsRefusedAsSuch() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    registry.createAgent("alice");
    Map<String, Object> outer = new HashMap<>(DagCbor.decodeMap(Files.readAllBytes(registry.file())));
    outer.put("v", 2L);
    Files.write(registry.file(), DagCbor.encode(outer));
    assertThatThrownBy(() -> AgentRegistry.open(data)).isInstanceOf(InvalidFormatException.class).hasMessageContaining("newer");
  }

  @Test
  void aChecksummedButInconsistentFileIsRefused() throws Exception {
    // content whose checksum is right but whose agent's did does not match its seed
    AgentKey key = AgentKey.generate();
    byte[] content = DagCbor.encode(Map.of("agents", List.of(Map.of("name", "a", "did", AgentKey.generate().did().toString(),
        "seed", key.seed(), "created", 1L, "admin", false)), "tokens", List.of()));
    Files.write(data.resolve(AgentRegistry.FILE_NAME), DagCbor.encode(Map.of("v", 1L, "content", content,
        "sha256", java.security.MessageDigest.getInstance("SHA-256").digest(content))));
    assertThatThrownBy(() -> AgentRegistry.open(data)).isInstanceOf(InvalidFormatException.class).hasMessageContaining("inconsistent");
  }

  @Test
  void authenticatesConcurrentlyWithChanges() throws Exception {
    AgentRegistry registry = AgentRegistry.open(data);
    IssuedToken owner = registry.createOwnerIfAbsent(null).orElseThrow();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        readers.add(pool.submit(() -> {
          int ok = 0;
          for (int i = 0; i < 20_000; i++) {
            Optional<HostedAgent> agent = registry.authenticate(owner.token());
            ok += agent.isPresent() ? 1 : 0;
          }
          return ok;
        }));
      }
      List<IssuedToken> made = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        made.add(registry.createAgent("agent-" + i));
      }
      for (Future<Integer> reader : readers) {
        assertThat(reader.get()).isEqualTo(20_000);
      }
      for (IssuedToken t : made) {
        assertThat(registry.authenticate(t.token())).map(HostedAgent::name).contains(t.agent().name());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
