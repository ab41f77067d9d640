package dev.mnemo.node.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CachingEmbedderTest {

  @Test
  void aRepeatedQueryComesFromTheCacheWithTheSameVector() {
    CachingEmbedder cache = new CachingEmbedder(TestModels.miniLm());
    float[] first = cache.embedQuery("what does Bob drink?");
    float[] second = cache.embedQuery("what does Bob drink?");
    assertThat(second).isEqualTo(first).isNotSameAs(first);
    assertThat(second).isEqualTo(TestModels.miniLm().embedQuery("what does Bob drink?"));
    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(1);
    assertThat(cache.size()).isEqualTo(1);

    first[0] = 42; // callers own their arrays: the cache keeps its own copy
    assertThat(cache.embedQuery("what does Bob drink?")).isEqualTo(second);
  }

  @Test
  void theLeastRecentlyUsedQueryIsEvictedFirst() {
    CachingEmbedder cache = new CachingEmbedder(TestModels.miniLm(), 3);
    cache.embedQuery("a tea");
    cache.embedQuery("b coffee");
    cache.embedQuery("c juice");
    cache.embedQuery("a tea"); // hit: now b is the eldest
    cache.embedQuery("d water"); // evicts b
    assertThat(cache.size()).isEqualTo(3);
    assertThat(cache.hits()).isEqualTo(1);

    cache.embedQuery("a tea");
    assertThat(cache.hits()).isEqualTo(2);
    cache.embedQuery("b coffee");
    assertThat(cache.misses()).isEqualTo(5);
    assertThat(cache.size()).isEqualTo(3);
  }

  @Test
  void manyThreadsStayWithinTheBound() throws Exception {
    CachingEmbedder cache = new CachingEmbedder(TestModels.miniLm(), 20);
    ExecutorService workers = Executors.newFixedThreadPool(8);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int thread = t;
      futures.add(
          workers.submit(
              () -> {
                for (int i = 0; i < 10; i++) {
                  cache.embedQuery("query " + ((thread * 7 + i) % 30));
                }
              }));
    }
    for (Future<?> future : futures) {
      future.get(60, TimeUnit.SECONDS);
    }
    workers.shutdown();
    assertThat(cache.size()).isLessThanOrEqualTo(20);
    assertThat(cache.hits() + cache.misses()).isEqualTo(80);
  }

  @Test
  void aListOfQueriesMixesHitsAndMissesInOrder() {
    CachingEmbedder cache = new CachingEmbedder(TestModels.miniLm());
    float[] cached = cache.embedQuery("what does Bob drink?");
    List<String> queries =
        List.of("when is Carol's birthday?", "what does Bob drink?", "where does Dan live?");
    List<float[]> vectors = cache.embedQueries(queries);
    assertThat(vectors.get(1)).isEqualTo(cached);
    List<float[]> direct = TestModels.miniLm().embedQueries(queries);
    for (int i = 0; i < 3; i++) {
      assertThat(vectors.get(i)).as(queries.get(i)).isEqualTo(direct.get(i));
    }
    assertThat(cache.hits()).isEqualTo(1);
    assertThat(cache.size()).isEqualTo(3);
  }

  @Test
  void passagesAndVeryLongQueriesAreNotKept() {
    CachingEmbedder cache = new CachingEmbedder(TestModels.miniLm());
    cache.embedPassages(List.of("Bob prefers tea"));
    assertThat(cache.size()).isZero();
    cache.embedQuery("tea ".repeat(CachingEmbedder.MAX_QUERY_CHARS / 4 + 1));
    assertThat(cache.size()).isZero();
    assertThatThrownBy(() -> cache.embedQuery(" ")).isInstanceOf(IllegalArgumentException.class);
  }
}
