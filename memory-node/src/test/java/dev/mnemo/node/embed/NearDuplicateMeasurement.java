package dev.mnemo.node.embed;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where OnnxEmbedder.Model.nearDuplicateCosine comes from (README "Remember"): cosines (MNEMO_NEAR_MODEL, default the node's model) of
 * duplicates (case, punctuation, spacing, a typo), paraphrases and changed facts, and of every pair
 * of distinct turns by one speaker in the LoCoMo dev conversations. Not part of the suite; run with
 * {@code -Dtest=NearDuplicateMeasurement} (the LoCoMo part needs ../shared/eval/locomo-dev).
 */
class NearDuplicateMeasurement {
  static final List<String[]> DUPLICATES = List.of(
      new String[] {"Bob prefers green tea over coffee", "bob prefers green tea over coffee."},
      new String[] {"Bob prefers green tea over coffee", "Bob prefers green tea over coffee!"},
      new String[] {"Bob prefers green tea over coffee", "Bob  prefers green tea over coffee "},
      new String[] {"The quarterly budget meeting moved to Thursday", "The quarterly budget meeting moved to Thursday."},
      new String[] {"The quarterly budget meeting moved to Thursday", "the Quarterly Budget Meeting moved to thursday"},
      new String[] {"Alice is allergic to peanuts", "Alice is allergic to peanuts."},
      new String[] {"Alice is allergic to peanuts", "ALICE IS ALLERGIC TO PEANUTS"},
      new String[] {"Caroline went to the LGBTQ support group on 7 May 2023", "Caroline went to the LGBTQ support group on 7 May 2023."},
      new String[] {"Melanie painted a sunrise last year", "Melanie painted a sunrise last year :)"},
      new String[] {"I'm moving to Berlin next month", "Im moving to Berlin next month"},
      new String[] {"Bob prefers green tea over coffee", "Bob prefers green tea over cofee"});
  static final List<String[]> PARAPHRASES = List.of(
      new String[] {"Bob prefers green tea over coffee", "Bob likes green tea more than coffee"},
      new String[] {"Bob prefers green tea over coffee", "Bob would rather drink green tea than coffee"},
      new String[] {"The quarterly budget meeting moved to Thursday", "The quarterly budget meeting is now on Thursday"},
      new String[] {"Alice is allergic to peanuts", "Alice has a peanut allergy"},
      new String[] {"I'm moving to Berlin next month", "Next month I am relocating to Berlin"},
      new String[] {"Melanie painted a sunrise last year", "Last year Melanie made a painting of a sunrise"},
      new String[] {"Caroline went to the LGBTQ support group on 7 May 2023", "On 7 May 2023 Caroline attended an LGBTQ support group"});
  static final List<String[]> DIFFERENT_FACTS = List.of(
      new String[] {"Bob prefers green tea over coffee", "Bob prefers coffee over green tea"},
      new String[] {"Bob prefers green tea over coffee", "Bob prefers black tea over coffee"},
      new String[] {"The quarterly budget meeting moved to Thursday", "The quarterly budget meeting moved to Friday"},
      new String[] {"Alice is allergic to peanuts", "Alice is allergic to shellfish"},
      new String[] {"Alice is allergic to peanuts", "Alice is not allergic to peanuts"},
      new String[] {"I'm moving to Berlin next month", "I'm moving to Munich next month"},
      new String[] {"Caroline went to the LGBTQ support group on 7 May 2023", "Caroline went to the LGBTQ support group on 8 May 2023"},
      new String[] {"Melanie painted a sunrise last year", "Melanie painted a sunset last year"},
      new String[] {"The meeting is at 3pm on Tuesday", "The meeting is at 4pm on Tuesday"},
      new String[] {"Bob's phone number is 555-0142", "Bob's phone number is 555-0199"});

  /** The model measured: MNEMO_NEAR_MODEL (a config name), else the node's default. */
  private static OnnxEmbedder model() {
    String name = System.getenv().getOrDefault("MNEMO_NEAR_MODEL", Embedders.DEFAULT);
    return TestModels.of(OnnxEmbedder.Model.named(name).orElseThrow());
  }

  @Test
  void locomo() throws Exception {
    OnnxEmbedder bge = model();
    java.nio.file.Path dir = java.nio.file.Path.of("../../shared/eval/locomo-dev");
    if (!java.nio.file.Files.isDirectory(dir)) dir = java.nio.file.Path.of("../shared/eval/locomo-dev");
    if (!java.nio.file.Files.isDirectory(dir)) dir = java.nio.file.Path.of("/work/shared/eval/locomo-dev");
    double[] ts = {0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99};
    long[] sameSpeaker = new long[ts.length];
    long[] sameSession = new long[ts.length];
    long pairs = 0, sessionPairs = 0, identical = 0;
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    for (String file : List.of("26.json", "30.json", "41.json", "42.json", "43.json")) {
      var root = mapper.readTree(dir.resolve(file).toFile());
      List<String> texts = new java.util.ArrayList<>();
      List<String> speakers = new java.util.ArrayList<>();
      List<Integer> sessions = new java.util.ArrayList<>();
      for (int n = 1; root.has("session_" + n); n++) {
        for (var turn : root.get("session_" + n)) {
          texts.add(turn.get("text").asText());
          speakers.add(turn.get("speaker").asText());
          sessions.add(n);
        }
      }
      List<float[]> v = new java.util.ArrayList<>();
      for (int i = 0; i < texts.size(); i += 64) {
        v.addAll(bge.embedPassages(texts.subList(i, Math.min(texts.size(), i + 64))));
      }
      for (int i = 0; i < texts.size(); i++) {
        for (int j = i + 1; j < texts.size(); j++) {
          if (!speakers.get(i).equals(speakers.get(j))) continue;
          if (texts.get(i).equals(texts.get(j))) { identical++; continue; }
          double c = TestModels.cosine(v.get(i), v.get(j));
          boolean session = sessions.get(i).equals(sessions.get(j));
          pairs++;
          if (session) sessionPairs++;
          for (int t = 0; t < ts.length; t++) {
            if (c >= ts[t]) { sameSpeaker[t]++; if (session) sameSession[t]++; }
          }
          if (c >= 0.97) System.out.printf("LOCOMO %.4f | %s | %s%n", c, texts.get(i), texts.get(j));
        }
      }
    }
    System.out.printf("LOCOMO distinct same-speaker pairs %d (same session %d), identical texts %d%n", pairs, sessionPairs, identical);
    for (int t = 0; t < ts.length; t++) {
      System.out.printf("LOCOMO >= %.3f: %d same speaker, %d same session%n", ts[t], sameSpeaker[t], sameSession[t]);
    }
  }

  @Test
  void measure() {
    OnnxEmbedder bge = model();
    for (var group : List.of(List.of("duplicates", DUPLICATES), List.of("paraphrases", PARAPHRASES), List.of("different", DIFFERENT_FACTS))) {
      @SuppressWarnings("unchecked") List<String[]> pairs = (List<String[]>) group.get(1);
      for (String[] p : pairs) {
        List<float[]> v = bge.embedPassages(List.of(p[0], p[1]));
        System.out.printf("MEASURE %s %.4f | %s | %s%n", group.get(0), TestModels.cosine(v.get(0), v.get(1)), p[0], p[1]);
      }
    }
  }
}
