package dev.mnemo.store.cid;

/** The multicodec codes Mnemo names. Other codes still parse; they just have no name here. */
public final class Multicodec {
  public static final int IDENTITY = 0x00;
  public static final int SHA2_256 = 0x12;
  public static final int DAG_PB = 0x70;
  public static final int DAG_CBOR = 0x71;
  public static final int RAW = 0x55;
  public static final int ED25519_PUB = 0xed;

  private Multicodec() {}

  public static String name(long code) {
    return switch ((int) code) {
      case IDENTITY -> "identity";
      case SHA2_256 -> "sha2-256";
      case DAG_PB -> "dag-pb";
      case DAG_CBOR -> "dag-cbor";
      case RAW -> "raw";
      case ED25519_PUB -> "ed25519-pub";
      default -> "0x" + Long.toHexString(code);
    };
  }
}
