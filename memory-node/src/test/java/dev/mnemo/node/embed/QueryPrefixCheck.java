package dev.mnemo.node.embed;

import java.util.List;

/**
 * Does BGE's query instruction help on agent memories? Thirty memories, thirty questions each
 * answered by one memory (worded differently from it on purpose); prints recall@1, recall@3 and
 * mean reciprocal rank with and without the prefix, and for MiniLM as a reference. A measurement,
 * not a test: run with {@code java -cp <test classpath> dev.mnemo.node.embed.QueryPrefixCheck}.
 */
public final class QueryPrefixCheck {
  private QueryPrefixCheck() {}

  /** Memory, then a question that memory answers. */
  static final List<String[]> PAIRS =
      List.of(
          new String[] {"Bob prefers green tea to coffee.", "what does Bob like to drink?"},
          new String[] {"Alice is allergic to peanuts.", "which foods should Alice avoid?"},
          new String[] {
            "The staging database runs on Postgres 16.", "what version of the DB is staging on?"
          },
          new String[] {"Carol's birthday is on the 14th of March.", "when was Carol born?"},
          new String[] {
            "The car needs new tires before winter.", "what maintenance is due on the vehicle?"
          },
          new String[] {
            "Deploys are frozen every Friday after noon.",
            "can I ship a release on Friday afternoon?"
          },
          new String[] {"Dan moved from Berlin to Lisbon last year.", "where does Dan live now?"},
          new String[] {
            "The API rate limit is 100 requests per minute per key.",
            "how many calls can a client make?"
          },
          new String[] {
            "Erin leads the search relevance team.", "who is in charge of ranking quality?"
          },
          new String[] {
            "Backups are written to an S3 bucket in eu-west-1 nightly.",
            "where do our backups go and how often?"
          },
          new String[] {
            "Frank uses a standing desk because of back pain.", "why does Frank work standing up?"
          },
          new String[] {
            "The user wants answers in short bullet points.", "how should I format my replies?"
          },
          new String[] {"Grace's dog is called Pixel.", "what is the name of Grace's pet?"},
          new String[] {"Invoices are due within 30 days of issue.", "what are the payment terms?"},
          new String[] {
            "Hank speaks Spanish and Portuguese fluently.", "which languages does Hank know?"
          },
          new String[] {
            "The office wifi password rotates on the first Monday of each month.",
            "how often does the network password change?"
          },
          new String[] {
            "Ivy is vegetarian and does not eat fish.", "can I order sushi with salmon for Ivy?"
          },
          new String[] {
            "The mobile app crashes on Android 12 when the camera opens.",
            "is there a known bug with taking photos?"
          },
          new String[] {
            "Jack's flight to Tokyo leaves at 9:40 on Tuesday.", "when does Jack depart for Japan?"
          },
          new String[] {
            "Quarterly planning happens in the second week of January, April, July and October.",
            "when is the next roadmap meeting?"
          },
          new String[] {
            "Kim prefers to be contacted on Signal, not email.", "what's the best way to reach Kim?"
          },
          new String[] {
            "The test suite takes eleven minutes on CI.", "how long does the build pipeline run?"
          },
          new String[] {"Leo is learning to play the cello.", "what instrument is Leo practising?"},
          new String[] {
            "Our SLA promises 99.9% monthly uptime.",
            "what availability did we commit to customers?"
          },
          new String[] {"Mia works remotely from a farm in Wales.", "is Mia in the office?"},
          new String[] {
            "Production logs are kept for 14 days.", "how far back can I search the logs?"
          },
          new String[] {
            "Nina cannot attend meetings before 10am because of school runs.",
            "can I book Nina for an 8:30 call?"
          },
          new String[] {
            "The design system uses Inter as its typeface.", "which font do we use in the UI?"
          },
          new String[] {
            "Omar bought a used electric bike for commuting.", "how does Omar get to work?"
          },
          new String[] {
            "Refunds over 500 euros need a manager's approval.",
            "who has to sign off a large refund?"
          });

  public static void main(String[] args) {
    List<String> memories = PAIRS.stream().map(p -> p[0]).toList();
    List<String> questions = PAIRS.stream().map(p -> p[1]).toList();
    for (OnnxEmbedder.Model model : OnnxEmbedder.Model.values()) {
      boolean[] options =
          model.queryPrefix().isEmpty() ? new boolean[] {false} : new boolean[] {false, true};
      for (boolean prefix : options) {
        try (OnnxEmbedder embedder =
            new OnnxEmbedder(model, prefix, Runtime.getRuntime().availableProcessors())) {
          List<float[]> stored = embedder.embedPassages(memories);
          List<float[]> asked = embedder.embedQueries(questions);
          int top1 = 0;
          int top3 = 0;
          double reciprocal = 0;
          double gap =
              0; // gold score minus best wrong score: the margin a threshold has to work with
          for (int q = 0; q < asked.size(); q++) {
            float gold = dot(asked.get(q), stored.get(q));
            int rank = 1;
            float bestWrong = -1;
            for (int m = 0; m < stored.size(); m++) {
              if (m == q) {
                continue;
              }
              float score = dot(asked.get(q), stored.get(m));
              bestWrong = Math.max(bestWrong, score);
              if (score > gold) {
                rank++;
              }
            }
            top1 += rank == 1 ? 1 : 0;
            top3 += rank <= 3 ? 1 : 0;
            reciprocal += 1.0 / rank;
            gap += gold - bestWrong;
          }
          int n = asked.size();
          System.out.printf(
              "%-18s prefix=%-5s recall@1 %2d/%d  recall@3 %2d/%d  MRR %.3f  mean margin %+.3f%n",
              model.configName(), prefix, top1, n, top3, n, reciprocal / n, gap / n);
        }
      }
    }
  }

  static float dot(float[] a, float[] b) {
    float sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
