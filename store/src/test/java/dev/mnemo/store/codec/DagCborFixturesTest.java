package dev.mnemo.store.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Conformance against the public ipld/codec-fixtures blocks shipped in ../shared: every block
 * decodes, re-encodes to identical bytes and hashes to the CID in its file name; every negative
 * case is refused. Mnemo supports every value kind in the fixtures, so none is on a refusal list.
 */
class DagCborFixturesTest {
  static final Path FIXTURES = locate("shared/ipld-codec-fixtures");

  static Path locate(String relative) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path candidate = dir.resolveSibling(relative);
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
      candidate = dir.resolve("../" + relative).normalize();
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("cannot find ../" + relative + " from " + Path.of("").toAbsolutePath());
  }

  @TestFactory
  Stream<DynamicTest> everyFixtureRoundTripsToItsCid() throws IOException {
    List<Path> blocks = new ArrayList<>();
    try (Stream<Path> files = Files.walk(FIXTURES.resolve("fixtures"))) {
      files.filter(p -> p.toString().endsWith(".dag-cbor")).sorted().forEach(blocks::add);
    }
    assertThat(blocks).hasSizeGreaterThanOrEqualTo(100);
    return blocks.stream().map(block -> DynamicTest.dynamicTest(block.getParent().getFileName().toString(), () -> {
      byte[] bytes = Files.readAllBytes(block);
      String name = block.getFileName().toString();
      Cid expected = Cid.parse(name.substring(0, name.length() - ".dag-cbor".length()));

      Object value = DagCbor.decode(bytes);
      byte[] again = DagCbor.encode(value);

      assertThat(again).as("re-encoding of %s", name).isEqualTo(bytes);
      assertThat(Cid.dagCbor(again)).isEqualTo(expected);
      assertThat(Cid.dagCbor(again).toString()).isEqualTo(expected.toString());
      assertThat(expected.matches(bytes)).isTrue();
    }));
  }

  @TestFactory
  Stream<DynamicTest> everyNegativeFixtureIsRefused() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<DynamicTest> tests = new ArrayList<>();
    try (Stream<Path> files = Files.walk(FIXTURES.resolve("negative-fixtures/dag-cbor/decode"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        for (JsonNode c : json.readTree(file.toFile())) {
          byte[] bytes = HexFormat.of().parseHex(c.get("hex").asText());
          tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () ->
              assertThatThrownBy(() -> DagCbor.decode(bytes))
                  .isInstanceOf(InvalidFormatException.class)
                  .hasMessageContaining("DAG-CBOR")));
        }
      }
    }
    assertThat(tests).isNotEmpty();
    return tests.stream();
  }

  @Test
  void duplicateKeysNameTheKey() {
    byte[] bytes = HexFormat.of().parseHex("a3636261720363666f6f0163666f6f02");
    assertThatThrownBy(() -> DagCbor.decode(bytes)).hasMessageContaining("duplicate map key \"foo\"");
  }
}
