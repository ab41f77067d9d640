package dev.mnemo.node.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket of failed authentications per source address: each address may fail {@code
 * perMinute} times in a burst, and earns one more attempt every {@code 60 / perMinute} seconds.
 * Past that its requests are refused before any token is checked. Guessing a 256-bit secret is
 * hopeless anyway; this keeps a guesser from costing the node a hash per request and keeps the
 * log of failures readable.
 */
final class FailureLimiter {
  /** Buckets kept at most; beyond, full ones (addresses that stopped failing) are dropped first. */
  static final int MAX_ADDRESSES = 10_000;

  private final double capacity;
  private final double perNano;
  private final LongSupplier clock;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  FailureLimiter(int perMinute, LongSupplier nanoClock) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("perMinute must be at least 1");
    }
    this.capacity = perMinute;
    this.perNano = perMinute / 60e9;
    this.clock = nanoClock;
  }

  FailureLimiter(int perMinute) {
    this(perMinute, System::nanoTime);
  }

  /** 0 when {@code address} may try now, else the seconds until it may (for Retry-After). */
  long retryAfterSeconds(String address) {
    Bucket bucket = buckets.get(address);
    if (bucket == null) {
      return 0;
    }
    synchronized (bucket) {
      bucket.refill(clock.getAsLong());
      return bucket.tokens >= 1 ? 0 : Math.max(1, (long) Math.ceil((1 - bucket.tokens) / perNano / 1e9));
    }
  }

  void failed(String address) {
    if (buckets.size() >= MAX_ADDRESSES && !buckets.containsKey(address)) {
      prune();
    }
    Bucket bucket = buckets.computeIfAbsent(address, a -> new Bucket(capacity, clock.getAsLong()));
    synchronized (bucket) {
      bucket.refill(clock.getAsLong());
      bucket.tokens = Math.max(0, bucket.tokens - 1);
    }
  }

  int addresses() {
    return buckets.size();
  }

  private void prune() {
    long now = clock.getAsLong();
    buckets.values().removeIf(bucket -> {
      synchronized (bucket) {
        bucket.refill(now);
        return bucket.tokens >= capacity;
      }
    });
    if (buckets.size() >= MAX_ADDRESSES) {
      // Every address is failing at once: forgetting them all costs a burst each, but the map stays bounded.
      buckets.clear();
    }
  }

  private final class Bucket {
    double tokens;
    long last;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.last = now;
    }

    void refill(long now) {
      tokens = Math.min(capacity, tokens + (now - last) * perNano);
      last = now;
    }
  }
}
