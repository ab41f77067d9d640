package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The documented string a memory's text is embedded as, for each shape of context. */
class EmbedContextTest {
  private static final Map<String, Object> TURN = Map.of("speaker", "Caroline", "session_date", "8 May 2023", "turn", 7L,
      "blank", " ");

  @Test
  void eachValueButTheLastIsBracketedAndTheLastIsFollowedByAColon() {
    assertThat(new EmbedContext(List.of("session_date", "speaker")).compose("I went to a support group.", TURN))
        .isEqualTo("[8 May 2023] Caroline: I went to a support group.");
    assertThat(new EmbedContext(List.of("speaker")).compose("Hi!", TURN)).isEqualTo("Caroline: Hi!");
    assertThat(new EmbedContext(List.of("turn", "session_date", "speaker")).compose("Hi!", TURN))
        .isEqualTo("[7] [8 May 2023] Caroline: Hi!");
    assertThat(new EmbedContext(List.of("speaker", "session_date")).compose("Hi!", TURN))
        .as("the client's order, not the metadata's").isEqualTo("[Caroline] 8 May 2023: Hi!");
  }

  @Test
  void absentAndBlankValuesAreLeftOutAndNoneLeavesTheTextAlone() {
    assertThat(new EmbedContext(List.of("session_date", "mood", "speaker")).compose("Hi!", TURN))
        .isEqualTo("[8 May 2023] Caroline: Hi!");
    assertThat(new EmbedContext(List.of("mood", "blank")).compose("Hi!", TURN)).isEqualTo("Hi!");
    assertThat(EmbedContext.NONE.compose("Hi!", TURN)).isEqualTo("Hi!");
    Map<String, Object> typed = new LinkedHashMap<>();
    typed.put("score", 1.5);
    typed.put("ok", true);
    assertThat(new EmbedContext(List.of("score", "ok")).compose("x", typed)).isEqualTo("[1.5] true: x");
  }
}
