package dev.mnemo.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.node.auth.AgentRegistry;
import dev.mnemo.node.auth.ApiToken;
import dev.mnemo.node.auth.HostedAgent;
import dev.mnemo.node.auth.IssuedToken;
import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Agent and token administration for the CLI, on a stopped node's {@code agents.cbor} or through
 * a running node's admin calls. A running node keeps the registry in memory and would overwrite an
 * edit made beside it, so a node that holds its data directory's store lock is always asked over
 * HTTP, with the owner's token from {@code DATA/owner.token}.
 */
interface AgentAdmin extends AutoCloseable {
  record Agent(String name, String did, long created, boolean admin) {}

  record Token(String id, String agentDid, String agentName, long created, boolean revoked) {}

  record NewToken(String name, String did, String id, String token) {}

  /** A mistake the user can fix (unknown agent, name taken, node unreachable): one line, exit 1. */
  final class AdminException extends Exception {
    AdminException(String message) {
      super(message);
    }
  }

  NewToken createAgent(String name) throws IOException, AdminException;

  NewToken issueToken(String agentName) throws IOException, AdminException;

  List<Agent> agents() throws IOException, AdminException;

  List<Token> tokens() throws IOException, AdminException;

  Token revokeToken(String id) throws IOException, AdminException;

  /** Where the answers come from, for messages: the file or the node's URL. */
  String where();

  @Override
  void close() throws IOException;

  /**
   * The running node when {@code nodeUrl} is given or the data directory is locked by one (its
   * address from the node's config), else the registry file, locked against a node starting
   * meanwhile.
   */
  static AgentAdmin locate(Path data, Path configFile, String nodeUrl, String token)
      throws IOException, ConfigLoader.ConfigException, AdminException {
    if (nodeUrl != null) {
      return new Online(nodeUrl, token != null ? token : ownerToken(data));
    }
    Path lockFile = data.resolve("store").resolve("LOCK");
    if (!Files.exists(lockFile) || !Files.exists(data.resolve(AgentRegistry.FILE_NAME))) {
      // Agents made before the first start would leave the node without an owner.
      throw new AdminException("no node has started on " + data + " yet; start it once (it creates the owner agent), or pass --data");
    }
    FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock != null) {
      try {
        return new Offline(AgentRegistry.open(data), channel, lock);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }
    channel.close();
    return online(data, configFile, null, token);
  }

  /**
   * A running node's API: at {@code nodeUrl}, or at the address in the config of the node on
   * {@code data}; with {@code token}, or the owner's from {@code DATA/owner.token}.
   */
  static Online online(Path data, Path configFile, String nodeUrl, String token)
      throws ConfigLoader.ConfigException, AdminException {
    String url = nodeUrl;
    if (url == null) {
      NodeConfig config = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
      url = config.advertiseHttp();
      if (url == null) {
        if (config.port() == 0 || NodeConfig.isWildcard(config.host())) {
          throw new AdminException("the address of the node on " + data + " is not in its config; pass --node URL");
        }
        url = "http://" + NodeConfig.urlHost(config.host()) + ":" + config.port();
      }
    }
    return new Online(url, token != null ? token : ownerToken(data));
  }

  private static String ownerToken(Path data) throws AdminException {
    Path file = data.resolve(AgentRegistry.OWNER_TOKEN_FILE);
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new AdminException("cannot read the owner's token from " + file + " (" + e.getMessage() + "); pass --token");
    }
  }

  /** The node is stopped: the registry file itself. */
  final class Offline implements AgentAdmin {
    private final AgentRegistry registry;
    private final FileChannel channel;
    private final FileLock lock;

    Offline(AgentRegistry registry, FileChannel channel, FileLock lock) {
      this.registry = registry;
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public NewToken createAgent(String name) throws IOException, AdminException {
      try {
        return issued(registry.createAgent(name));
      } catch (IllegalArgumentException e) {
        throw new AdminException(e.getMessage());
      }
    }

    NewToken importAgent(String name, byte[] seed) throws IOException, AdminException {
      try {
        return issued(registry.importAgent(name, seed));
      } catch (IllegalArgumentException e) {
        throw new AdminException(e.getMessage());
      }
    }

    @Override
    public NewToken issueToken(String agentName) throws IOException, AdminException {
      try {
        return issued(registry.issueToken(agentName));
      } catch (java.util.NoSuchElementException e) {
        throw new AdminException(e.getMessage());
      }
    }

    @Override
    public List<Agent> agents() {
      return registry.agents().stream().map(a -> new Agent(a.name(), a.did().toString(), a.created(), a.admin())).toList();
    }

    @Override
    public List<Token> tokens() {
      return registry.tokens().stream().map(this::token).toList();
    }

    @Override
    public Token revokeToken(String id) throws IOException, AdminException {
      try {
        return token(registry.revokeToken(id));
      } catch (java.util.NoSuchElementException e) {
        throw new AdminException(e.getMessage());
      }
    }

    private Token token(ApiToken t) {
      return new Token(t.id(), t.agent().toString(), registry.agent(t.agent()).map(HostedAgent::name).orElse(""), t.created(), t.revoked());
    }

    private static NewToken issued(IssuedToken t) {
      return new NewToken(t.agent().name(), t.agent().did().toString(), t.id(), t.token());
    }

    @Override
    public String where() {
      return registry.file().toString();
    }

    @Override
    public void close() throws IOException {
      if (lock != null) {
        lock.release();
      }
      if (channel != null) {
        channel.close();
      }
    }
  }

  /** The node is running: its admin calls. */
  final class Online implements AgentAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Online(String url, String token) {
      this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
      this.token = token;
    }

    @Override
    public NewToken createAgent(String name) throws IOException, AdminException {
      return issued(call("POST", "/v1/agents", JSON.writeValueAsString(Map.of("name", name)), 201));
    }

    @Override
    public NewToken issueToken(String agentName) throws IOException, AdminException {
      return issued(call("POST", "/v1/agents/" + segment(agentName) + "/tokens", null, 201));
    }

    @Override
    public List<Agent> agents() throws IOException, AdminException {
      List<Agent> out = new ArrayList<>();
      for (JsonNode a : call("GET", "/v1/agents", null, 200).path("agents")) {
        out.add(new Agent(a.path("name").asText(), a.path("did").asText(), a.path("created").asLong(), a.path("admin").asBoolean()));
      }
      return out;
    }

    @Override
    public List<Token> tokens() throws IOException, AdminException {
      List<Token> out = new ArrayList<>();
      for (JsonNode t : call("GET", "/v1/tokens", null, 200).path("tokens")) {
        out.add(token(t));
      }
      return out;
    }

    @Override
    public Token revokeToken(String id) throws IOException, AdminException {
      call("DELETE", "/v1/tokens/" + segment(id), null, 200);
      for (Token t : tokens()) {
        if (t.id().equals(id)) {
          return t;
        }
      }
      throw new AdminException("token " + id + " was revoked but is no longer listed");
    }

    /** Writes a grant (or, {@code revoke}, a revocation) of {@code can} to {@code to} in {@code ns}; returns the entry's CID. */
    String grant(String ns, String to, List<String> can, boolean revoke) throws IOException, AdminException {
      String path = "/v1/namespaces/" + segment(ns) + (revoke ? "/revocations" : "/grants");
      return call("POST", path, JSON.writeValueAsString(Map.of("to", to, "can", can)), revoke ? 200 : 201).path("entry").asText();
    }

    /** The calling agent: {@code {did, name, admin}}. */
    JsonNode whoami() throws IOException, AdminException {
      return call("GET", "/v1/whoami", null, 200);
    }

    private static Token token(JsonNode t) {
      return new Token(t.path("id").asText(), t.path("agent").asText(), t.path("name").asText(), t.path("created").asLong(),
          t.path("revoked").asBoolean());
    }

    private static NewToken issued(JsonNode body) {
      return new NewToken(body.path("name").asText(), body.path("did").asText(), body.path("tokenId").asText(), body.path("token").asText());
    }

    private static String segment(String s) {
      return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode call(String method, String path, String json, int expected) throws IOException, AdminException {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer " + token)
          .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
      if (json != null) {
        request.header("Content-Type", "application/json");
      }
      HttpResponse<String> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new AdminException("cannot reach the node at " + base + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AdminException("interrupted");
      }
      JsonNode body;
      try {
        body = JSON.readTree(response.body());
      } catch (IOException e) {
        body = JSON.createObjectNode();
      }
      if (response.statusCode() != expected) {
        String message = body.path("error").path("message").asText(response.body());
        throw new AdminException(method + " " + path + " answered " + response.statusCode() + ": " + message);
      }
      return body;
    }

    @Override
    public String where() {
      return base;
    }

    @Override
    public void close() {
      http.close();
    }
  }
}
