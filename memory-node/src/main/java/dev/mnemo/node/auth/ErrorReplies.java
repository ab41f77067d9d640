package dev.mnemo.node.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.ext.web.RoutingContext;

/** Answers in the API's shapes: {@code {"error": {"code", "message"}}} and plain JSON objects. */
final class ErrorReplies {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String JSON_TYPE = "application/json";

  private ErrorReplies() {}

  static void error(RoutingContext ctx, int status, String code, String message) {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("code", code);
    error.put("message", message);
    json(ctx, status, body);
  }

  static void json(RoutingContext ctx, int status, Object body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    try {
      ctx.response().setStatusCode(status).putHeader("Content-Type", JSON_TYPE).end(io.vertx.core.buffer.Buffer.buffer(JSON.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree did not serialize", e);
    }
  }
}
