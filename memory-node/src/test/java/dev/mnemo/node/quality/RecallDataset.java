package dev.mnemo.node.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The recall-quality dataset in src/test/resources/recall-quality (made by make_dataset.py from
 * the hand-written people.txt): conversation turns with speaker and date, and questions naming
 * the turn that answers them, split into dev (for tuning) and test (for reporting).
 */
record RecallDataset(List<Turn> turns, List<Question> questions) {

  /** One remembered turn. */
  record Turn(String id, int session, String date, String speaker, String text) {
    /** Session date at midnight UTC plus one minute a turn, so turns keep their order. */
    long ts(int turnIndex) {
      return LocalDate.parse(date).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli() + turnIndex * 60_000L;
    }
  }

  /** One question and the id(s) of the turn(s) that answer it. */
  record Question(String id, String question, List<String> evidence, String type, String split) {}

  static RecallDataset load() {
    ObjectMapper json = new ObjectMapper();
    List<Turn> turns = new ArrayList<>();
    for (JsonNode n : lines(json, "recall-quality/conversations.jsonl")) {
      turns.add(new Turn(n.get("id").asText(), n.get("session").asInt(), n.get("date").asText(),
          n.get("speaker").asText(), n.get("text").asText()));
    }
    List<Question> questions = new ArrayList<>();
    for (JsonNode n : lines(json, "recall-quality/questions.jsonl")) {
      List<String> evidence = new ArrayList<>();
      n.get("evidence").forEach(e -> evidence.add(e.asText()));
      questions.add(new Question(n.get("id").asText(), n.get("question").asText(), List.copyOf(evidence),
          n.get("type").asText(), n.get("split").asText()));
    }
    return new RecallDataset(List.copyOf(turns), List.copyOf(questions));
  }

  List<Question> split(String name) {
    return questions.stream().filter(q -> q.split().equals(name)).toList();
  }

  private static List<JsonNode> lines(ObjectMapper json, String resource) {
    InputStream in = RecallDataset.class.getClassLoader().getResourceAsStream(resource);
    if (in == null) {
      throw new IllegalStateException(resource + " is not on the test classpath");
    }
    List<JsonNode> nodes = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank()) {
          nodes.add(json.readTree(line));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return nodes;
  }
}
