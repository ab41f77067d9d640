package dev.mnemo.node.api;

/**
 * A request the node refuses, with the HTTP status and the stable error code clients see as
 * {@code {"error": {"code", "message"}}}. Only client mistakes and unavailability are
 * ApiExceptions; anything else that fails is a 500 and is logged.
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

  public static ApiException notFound(String message) {
    return new ApiException(404, "not_found", message);
  }

  public static ApiException unprocessable(String code, String message) {
    return new ApiException(422, code, message);
  }

  public static ApiException tooLarge(String message) {
    return new ApiException(413, "too_large", message);
  }
}
