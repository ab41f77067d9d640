package dev.mnemo.benchmarks.peers;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closed-loop query load, the same protocol as the Node runners' (benchmarks/peers/lib): N client
 * threads, each with its own connection, each sending its next query as soon as the last one
 * answered, drawing query numbers 0..count-1 from one shared counter. Every client warms up on its
 * share of the warm-up queries first; the clock starts when all are ready, and stops when the
 * queries run out or the time budget is spent.
 */
final class QueryLoad {
  private QueryLoad() {}

  /** One client's connection: answers query q with the ids of its results. */
  interface Client extends AutoCloseable {
    int[] search(int q) throws Exception;
  }

  interface ClientFactory {
    Client open() throws Exception;
  }

  record Answer(int q, int[] ids, double latencyMs) {}

  record Run(List<Answer> answers, double seconds) {}

  static Run run(ClientFactory factory, int clients, int count, int warmup, double maxSeconds) throws Exception {
    AtomicInteger next = new AtomicInteger();
    CountDownLatch ready = new CountDownLatch(clients);
    CountDownLatch go = new CountDownLatch(1);
    long[] deadline = new long[1];
    List<List<Answer>> perClient = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    Exception[] failure = new Exception[1];
    int warmupShare = (warmup + clients - 1) / clients;
    for (int c = 0; c < clients; c++) {
      List<Answer> answers = new ArrayList<>();
      perClient.add(answers);
      int index = c;
      threads.add(Thread.ofPlatform().name("query-client-" + c).start(() -> {
        try (Client client = factory.open()) {
          for (int i = 0; i < warmupShare; i++) {
            client.search((index * warmupShare + i) % count);
          }
          ready.countDown();
          go.await();
          int q;
          while (System.nanoTime() < deadline[0] && (q = next.getAndIncrement()) < count) {
            long t0 = System.nanoTime();
            int[] ids = client.search(q);
            answers.add(new Answer(q, ids, (System.nanoTime() - t0) / 1e6));
          }
        } catch (Exception e) {
          synchronized (failure) {
            failure[0] = e;
          }
          ready.countDown();
        }
      }));
    }
    ready.await();
    long start = System.nanoTime();
    deadline[0] = start + (long) (maxSeconds * 1e9);
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (failure[0] != null) {
      throw failure[0];
    }
    return new Run(perClient.stream().flatMap(List::stream).toList(), seconds);
  }
}
