package dev.mnemo.node.ipfs;

import dev.mnemo.node.ApiClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Calls a node's HTTP API like {@link ApiClient} but keeps the response headers, which ApiClient
 * drops: the IPFS tests check the {@code Retry-After} of 503 answers.
 */
final class HeaderCheckingClient {
  /** A response with its {@code Retry-After} header, if any, and how long it took. */
  record Answer(ApiClient.Response response, Optional<String> retryAfter, long millis) {}

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final ApiClient api;

  /** Calls the node {@code api} calls, with its token. */
  HeaderCheckingClient(ApiClient api) {
    this.base = api.baseUrl();
    this.api = api;
  }

  Answer get(String path) {
    return send("GET", path, HttpRequest.BodyPublishers.noBody());
  }

  Answer delete(String path) {
    return send("DELETE", path, HttpRequest.BodyPublishers.noBody());
  }

  Answer post(String path, Object json) {
    return send("POST", path, HttpRequest.BodyPublishers.ofByteArray(ApiClient.bytes(json)));
  }

  private Answer send(String method, String path, HttpRequest.BodyPublisher body) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", ApiClient.JSON_TYPE).method(method, body);
    if (api.token() != null) {
      builder.header("Authorization", "Bearer " + api.token());
    }
    HttpRequest request = builder.build();
    long start = System.nanoTime();
    try {
      HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      long millis = (System.nanoTime() - start) / 1_000_000;
      ApiClient.Response response = new ApiClient.Response(method + " " + path, r.statusCode(),
          r.headers().firstValue("Content-Type").orElse(""), r.body());
      return new Answer(response, r.headers().firstValue("Retry-After"), millis);
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
