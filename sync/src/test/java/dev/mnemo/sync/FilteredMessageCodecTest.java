package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.scalecube.cluster.transport.api.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InvalidClassException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What a gossip message from an untrusted peer may make this node deserialize and allocate. */
class FilteredMessageCodecTest {
  private final FilteredMessageCodec codec = new FilteredMessageCodec();

  private byte[] serialized(Object data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    codec.serialize(Message.withData(data).qualifier("test").build(), out);
    return out.toByteArray();
  }

  @Test
  void aPayloadOfTheLargestAnnouncementRoundTrips() throws Exception {
    byte[] payload = new byte[64 << 10];
    Arrays.fill(payload, (byte) 7);
    Message back = codec.deserialize(new ByteArrayInputStream(serialized(payload)));
    assertThat((byte[]) back.data()).isEqualTo(payload);
  }

  /** Two million nulls are 2 MB on the wire, under maxbytes, but an Object[] of 8-16 MB to allocate. */
  @Test
  void anArrayDeclaredLongerThanTheLimitIsRefusedBeforeItIsAllocated() throws Exception {
    byte[] message = serialized(new Object[2_000_000]);
    assertThat(message.length).isLessThan(8 << 20);
    assertThatThrownBy(() -> codec.deserialize(new ByteArrayInputStream(message)))
        .isInstanceOf(InvalidClassException.class).hasMessageContaining("REJECTED");
  }

  @Test
  void aClassOutsideTheAllowListIsRefused() throws Exception {
    byte[] message = serialized(new java.io.File("/etc/passwd"));
    assertThatThrownBy(() -> codec.deserialize(new ByteArrayInputStream(message)))
        .isInstanceOf(InvalidClassException.class);
  }
}
