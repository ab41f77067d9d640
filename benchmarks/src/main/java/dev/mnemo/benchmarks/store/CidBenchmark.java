package dev.mnemo.benchmarks.store;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CPU cost of content addressing: CIDv1 (sha2-256, dag-cbor codec) of blocks of several sizes,
 * and DAG-CBOR encoding/decoding of a ~2 KiB memory.
 *
 * <p>Hashing is reported in ops/s (one CID a op) and, as the secondary result {@code bytes}, in
 * bytes hashed per second (an {@link AuxCounters} counter: ops/s × block size). MB/s in the README
 * is {@code bytes} / 10^6. {@code sha256Reused} hashes with one reused {@link MessageDigest}, as
 * a floor to see what {@link Cid#dagCbor} adds (a {@code getInstance} per call, the multihash and
 * CID objects).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(1)
@Threads(1)
public class CidBenchmark {

  @State(Scope.Thread)
  public static class Data {
    @Param({"256", "2048", "65536", "1048576"})
    public int size;

    byte[] block;
    MessageDigest sha256;

    @Setup(Level.Trial)
    public void setup() throws NoSuchAlgorithmException {
      block = new byte[size];
      new SplittableRandom(42).nextBytes(block);
      sha256 = MessageDigest.getInstance("SHA-256");
    }
  }

  /** Bytes hashed, reported by JMH as a rate next to ops/s. */
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  @State(Scope.Thread)
  public static class Bytes {
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
      bytes = 0;
    }
  }

  @State(Scope.Thread)
  public static class MemoryData {
    Memory memory;
    byte[] encoded;

    @Setup(Level.Trial)
    public void setup() {
      memory = Fixtures.memory("bench", 1, 123_456);
      encoded = memory.encode();
      if (encoded.length < 1_900 || encoded.length > 2_300) {
        throw new IllegalStateException("fixture memory is " + encoded.length + " bytes, wanted ~2 KiB");
      }
      System.out.println("memory block: " + encoded.length + " bytes");
    }
  }

  @Benchmark
  public Cid cidDagCbor(Data data, Bytes counter) {
    counter.bytes += data.size;
    return Cid.dagCbor(data.block);
  }

  @Benchmark
  public byte[] sha256Reused(Data data, Bytes counter) {
    counter.bytes += data.size;
    return data.sha256.digest(data.block);
  }

  /** Memory → DAG-CBOR bytes. */
  @Benchmark
  public byte[] memoryEncode(MemoryData data) {
    return data.memory.encode();
  }

  /** DAG-CBOR bytes → Memory (strict canonical decode plus model validation). */
  @Benchmark
  public Memory memoryDecode(MemoryData data) throws InvalidFormatException {
    return Memory.decode(data.encoded);
  }

  /** Encode then decode: one round trip. */
  @Benchmark
  public Memory memoryEncodeDecode(MemoryData data) throws InvalidFormatException {
    return Memory.decode(data.memory.encode());
  }

  /** What an append does per memory on the caller's thread: encode and compute the CID. */
  @Benchmark
  public Block memoryToBlock(MemoryData data) {
    return Block.dagCbor(data.memory.encode());
  }
}
