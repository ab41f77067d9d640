package dev.mnemo.node.api;

/**
 * A request the HTTP layer refuses before it reaches the service (malformed or invalid body,
 * parameter or media type), with the status and the stable error code clients see as
 * {@code {"error": {"code", "message"}}}. What the service refuses comes as its own domain
 * exceptions, which the failure handler maps; anything else that fails is a 500 and is logged.
 */
public class ApiException extends RuntimeException {
  private final int status;
  private final String code;

  public ApiException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public static ApiException badRequest(String code, String message) {
    return new ApiException(400, code, message);
  }

  public static ApiException unprocessable(String code, String message) {
    return new ApiException(422, code, message);
  }

  /** A body over {@code limit} bytes (413). */
  public static ApiException tooLarge(long limit) {
    return new ApiException(413, "too_large", "the request body exceeds " + limit + " bytes");
  }
}
