package dev.mnemo.node.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * LoCoMo's development half, read from where the shared data lives (never copied into the
 * project): {@code MNEMO_LOCOMO_DIR}, or ../shared/eval/locomo-dev beside the project. Each
 * conversation is a namespace named after its file; each turn the memory "SPEAKER: TEXT" with
 * metadata dia_id and session_date; each question with evidence asks its conversation.
 */
final class LocomoSet {
  private LocomoSet() {}

  static Path dir() {
    String env = System.getenv("MNEMO_LOCOMO_DIR");
    if (env != null) {
      return Path.of(env);
    }
    // surefire runs in the module directory; the shared data sits beside the project root
    for (Path p : List.of(Path.of("../../shared/eval/locomo-dev"), Path.of("../shared/eval/locomo-dev"))) {
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new IllegalStateException("LoCoMo dev set not found; set MNEMO_LOCOMO_DIR");
  }

  static void load(List<ConversationTuning.Doc> docs, List<ConversationTuning.Q> questions) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Path> files;
    try (Stream<Path> list = Files.list(dir())) {
      files = list.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    for (Path file : files) {
      String ns = "locomo-" + file.getFileName().toString().replace(".json", "");
      JsonNode conv = json.readTree(file.toFile());
      Map<String, Integer> byDia = new HashMap<>();
      for (int s = 1; conv.has("session_" + s) || conv.has("session_" + (s + 1)); s++) {
        JsonNode session = conv.get("session_" + s);
        if (session == null || !session.isArray()) {
          continue;
        }
        String date = conv.path("session_" + s + "_date_time").asText();
        for (JsonNode turn : session) {
          Map<String, String> meta = new TreeMap<>();
          meta.put("dia_id", turn.get("dia_id").asText());
          meta.put("session_date", date);
          byDia.put(turn.get("dia_id").asText(), docs.size());
          docs.add(new ConversationTuning.Doc(ns, turn.get("speaker").asText(),
              turn.get("speaker").asText() + ": " + turn.get("text").asText(), meta));
        }
      }
      for (JsonNode qa : conv.get("qa")) {
        Set<Integer> evidence = new HashSet<>();
        for (JsonNode e : qa.path("evidence")) {
          // a few evidence lists hold "D8:6; D9:17" in one string
          for (String id : e.asText().split("[;,]")) {
            Integer i = byDia.get(id.strip());
            if (i != null) {
              evidence.add(i);
            }
          }
        }
        if (!evidence.isEmpty()) {
          questions.add(new ConversationTuning.Q("locomo", ns, qa.get("question").asText(), evidence,
              "cat" + qa.path("category").asText()));
        }
      }
    }
  }
}
