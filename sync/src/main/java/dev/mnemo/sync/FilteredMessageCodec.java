package dev.mnemo.sync;

import io.scalecube.cluster.transport.api.Message;
import io.scalecube.cluster.transport.api.MessageCodec;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;

/**
 * ScaleCube's wire format (a {@link Message} externalized with Java serialization, as its own
 * JdkMessageCodec writes it), read through an allow-list. SWIM's internal messages need Java
 * serialization, but peers are not trusted: without the filter, any peer could make this node
 * instantiate any class on its classpath. Mnemo's own payloads travel as plain byte arrays.
 */
final class FilteredMessageCodec implements MessageCodec {
  /**
   * maxarray bounds what an array's declared length makes this node allocate before reading a
   * byte of it: 1 Mi elements (an Object[] of 4-8 MB, a byte[] of 1 MiB, against announcements of
   * ~40 KB at most). At 8 Mi, a message of a few bytes could make it allocate 64 MB.
   */
  static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(
      "maxdepth=32;maxrefs=100000;maxbytes=8388608;maxarray=1048576;"
          + "io.scalecube.cluster.**;io.scalecube.net.*;java.lang.*;java.util.*;[B;[Ljava.lang.Object;!*");

  @Override
  public Message deserialize(InputStream stream) throws Exception {
    Message message = new Message();
    try (ObjectInputStream in = new ObjectInputStream(stream)) {
      in.setObjectInputFilter(FILTER);
      message.readExternal(in);
    }
    return message;
  }

  @Override
  public void serialize(Message message, OutputStream stream) throws Exception {
    try (ObjectOutputStream out = new ObjectOutputStream(stream)) {
      message.writeExternal(out);
      out.flush();
    }
  }
}
