package dev.mnemo.node.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import java.io.IOException;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;

/**
 * The node's administration calls, for admin agents only (403 {@code forbidden} for others):
 * <ul>
 *   <li>{@code POST /v1/agents {"name"}}: 201 {@code {name, did, tokenId, token}}; the token is
 *       shown this once
 *   <li>{@code GET /v1/agents}: {@code {agents: [{name, did, created, admin}]}}
 *   <li>{@code POST /v1/agents/{name}/tokens}: 201 {@code {name, did, tokenId, token}}
 *   <li>{@code GET /v1/tokens}: {@code {tokens: [{id, agent, name, created, revoked}]}}; never a
 *       secret or a hash
 *   <li>{@code DELETE /v1/tokens/{id}}: {@code {id, revoked: true}}
 * </ul>
 * and {@link #requireAdmin} in front of {@code /v1/node} and {@code /metrics}.
 */
final class AdminApi {
  /** An agent's name is all a create call carries. */
  private static final int MAX_BODY_BYTES = 4096;

  private final Vertx vertx;
  private final AgentRegistry registry;

  AdminApi(Vertx vertx, AgentRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    // Platform handlers: Vert.x runs those before a body handler, so a refused call reads no body.
    PlatformHandler adminOnly = AdminApi::requireAdmin;
    PlatformHandler json = AdminApi::requireJson;
    router.post("/v1/agents").handler(adminOnly).handler(json).handler(body).handler(this::createAgent);
    router.get("/v1/agents").handler(AdminApi::requireAdmin).handler(this::listAgents);
    router.post("/v1/agents/:name/tokens").handler(AdminApi::requireAdmin).handler(this::issueToken);
    router.get("/v1/tokens").handler(AdminApi::requireAdmin).handler(this::listTokens);
    router.delete("/v1/tokens/:id").handler(AdminApi::requireAdmin).handler(this::revokeToken);
  }

  /** Lets admin agents through; 403 for everyone else. */
  static void requireAdmin(RoutingContext ctx) {
    if (Authenticator.caller(ctx).map(dev.mnemo.node.Caller::admin).orElse(false)) {
      ctx.next();
    } else {
      ErrorReplies.error(ctx, 403, "forbidden", ctx.request().method() + " " + ctx.request().path() + " is for the node's admin agents");
    }
  }

  private static void requireJson(RoutingContext ctx) {
    String type = String.valueOf(ctx.request().getHeader("Content-Type")).split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (type.equals(ErrorReplies.JSON_TYPE)) {
      ctx.next();
    } else {
      ErrorReplies.error(ctx, 415, "unsupported_media_type", "send the body as " + ErrorReplies.JSON_TYPE);
    }
  }

  private void createAgent(RoutingContext ctx) {
    JsonNode body;
    byte[] bytes = ctx.body() == null ? new byte[0] : ctx.body().buffer().getBytes();
    String notUtf8 = dev.mnemo.node.api.StrictUtf8.problem(bytes);
    if (notUtf8 != null) {
      ErrorReplies.error(ctx, 400, "invalid_utf8", notUtf8);
      return;
    }
    try {
      body = ErrorReplies.JSON.readTree(bytes);
    } catch (IOException e) {
      ErrorReplies.error(ctx, 400, "invalid_json", "the body is not JSON");
      return;
    }
    if (body == null || !body.isObject() || !body.path("name").isTextual()) {
      ErrorReplies.error(ctx, 422, "validation_failed", "the body must be {\"name\": \"...\"}");
      return;
    }
    String name = body.path("name").asText();
    if (!HostedAgent.isValidName(name)) {
      ErrorReplies.error(ctx, 422, "validation_failed", "name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
      return;
    }
    blocking(ctx, 201, () -> issued(registry.createAgent(name)));
  }

  private void issueToken(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    blocking(ctx, 201, () -> issued(registry.issueToken(name)));
  }

  private void revokeToken(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    blocking(ctx, 200, () -> {
      ApiToken token = registry.revokeToken(id);
      ObjectNode out = ErrorReplies.JSON.createObjectNode();
      out.put("id", token.id());
      out.put("revoked", token.revoked());
      return out;
    });
  }

  private void listAgents(RoutingContext ctx) {
    ObjectNode out = ErrorReplies.JSON.createObjectNode();
    ArrayNode agents = out.putArray("agents");
    for (HostedAgent agent : registry.agents()) {
      ObjectNode a = agents.addObject();
      a.put("name", agent.name());
      a.put("did", agent.did().toString());
      a.put("created", agent.created());
      a.put("admin", agent.admin());
    }
    ErrorReplies.json(ctx, 200, out);
  }

  private void listTokens(RoutingContext ctx) {
    ObjectNode out = ErrorReplies.JSON.createObjectNode();
    ArrayNode tokens = out.putArray("tokens");
    for (ApiToken token : registry.tokens()) {
      ObjectNode t = tokens.addObject();
      t.put("id", token.id());
      t.put("agent", token.agent().toString());
      registry.agent(token.agent()).ifPresent(a -> t.put("name", a.name()));
      t.put("created", token.created());
      t.put("revoked", token.revoked());
    }
    ErrorReplies.json(ctx, 200, out);
  }

  private static ObjectNode issued(IssuedToken issued) {
    ObjectNode out = ErrorReplies.JSON.createObjectNode();
    out.put("name", issued.agent().name());
    out.put("did", issued.agent().did().toString());
    out.put("tokenId", issued.id());
    out.put("token", issued.token());
    return out;
  }

  /** Registry changes write and fsync a file: on a worker, never the event loop. */
  private void blocking(RoutingContext ctx, int status, Callable<Object> work) {
    vertx.executeBlocking(work, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ErrorReplies.json(ctx, status, ar.result());
      } else if (ar.cause() instanceof AgentRegistry.DuplicateAgentException duplicate) {
        ErrorReplies.error(ctx, 409, "conflict", duplicate.getMessage());
      } else if (ar.cause() instanceof NoSuchElementException missing) {
        ErrorReplies.error(ctx, 404, "not_found", missing.getMessage());
      } else {
        ctx.fail(ar.cause());
      }
    });
  }
}
