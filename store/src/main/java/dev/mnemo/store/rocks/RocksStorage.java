package dev.mnemo.store.rocks;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.identity.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The embedded storage engine: one RocksDB database in {@code <data>/store}, a column family per
 * kind of record. Writes go through {@link #writeDurably}, which syncs the write-ahead log before
 * it returns: that is where a write becomes durable. Concurrent callers of it are group-committed
 * by RocksDB's write thread (one leader writes and syncs the batches of all waiting writers).
 */
public final class RocksStorage implements AutoCloseable {
  /**
   * The on-disk layout version, kept in {@link Family#META} under {@code format}. 2 added the
   * {@code acl} family, 3 the {@code links} family; an older store opens, and the namespace log
   * migrates it (see {@link #openedFormat()} and {@link #markFormat}).
   */
  public static final int FORMAT_VERSION = 3;
  /** The oldest layout this build opens (and migrates). */
  public static final int FORMAT_VERSION_START = 1;
  private static final byte[] FORMAT_KEY = "format".getBytes(StandardCharsets.UTF_8);

  /** Column families. Names are part of the on-disk format. */
  public enum Family {
    /** CID bytes → block bytes. */
    BLOCKS("blocks"),
    /** ns 0x00 entry-CID → empty: the current heads of each namespace. */
    HEADS("heads"),
    /** entry-CID → apply position (8 bytes): the entries applied here. */
    ENTRIES("entries"),
    /** apply position (8 bytes) → entry-CID: the local apply log derived state resumes from. */
    POSITIONS("positions"),
    /** ns 0x00 position 0x.. ref-index → memory-CID: the live memories of a namespace, in write order. */
    MEMORIES("memories"),
    /** ns 0x00 memory-CID → state: added (with its listing key) or forgotten. */
    STATES("states"),
    /** small named values: format version, per-namespace clocks. */
    META("meta"),
    /**
     * typed per-entry records: each namespace's ACL entries, entries' ACL frontiers, non-owners'
     * adds, voided memories, and each memory's earliest invalidate (see LogKeys).
     */
    ACL("acl"),
    /** links between live memories: successors by prev, live memories by content, per-position changes (see MemoryLinks). */
    LINKS("links");

    final String cfName;

    Family(String cfName) {
      this.cfName = cfName;
    }
  }

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
  private final LRUCache cache;
  private final Map<Family, ColumnFamilyHandle> handles = new EnumMap<>(Family.class);
  private final List<ColumnFamilyHandle> allHandles = new ArrayList<>();
  private final WriteOptions durable;
  private final ReadOptions verifying;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private int openedFormat = FORMAT_VERSION;

  private RocksStorage(Path dir, long cacheBytes) throws IOException {
    this.dir = dir;
    this.cache = new LRUCache(cacheBytes);
    this.dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setParanoidChecks(true)
        // The default (point-in-time recovery) treats a corrupted WAL record as the end of the log
        // and silently drops every acknowledged write after it. Refuse to open instead; a record
        // torn by a crash mid-write (never acknowledged) is still tolerated at the tail.
        .setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords)
        .setMaxBackgroundJobs(2)
        .setKeepLogFileNum(4)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, options(false)));
    for (Family family : Family.values()) {
      descriptors.add(new ColumnFamilyDescriptor(family.cfName.getBytes(StandardCharsets.UTF_8),
          options(family == Family.BLOCKS || family == Family.ENTRIES || family == Family.LINKS)));
    }
    try {
      PrivateFiles.createDirectories(dir);
      this.db = RocksDB.open(dbOptions, dir.toString(), descriptors, allHandles);
    } catch (RocksDBException e) {
      closeOptions();
      throw asIOException("cannot open the store in " + dir, e);
    }
    for (Family family : Family.values()) {
      handles.put(family, allHandles.get(family.ordinal() + 1));
    }
    this.durable = new WriteOptions().setSync(true);
    this.verifying = new ReadOptions().setVerifyChecksums(true);
  }

  /** Opens (creating if needed) the engine in {@code dir}, with a block cache of {@code cacheBytes}. */
  public static RocksStorage open(Path dir, long cacheBytes) throws IOException {
    RocksStorage storage = new RocksStorage(dir, cacheBytes);
    try {
      storage.checkFormat();
    } catch (IOException | RuntimeException e) {
      storage.close();
      throw e;
    }
    return storage;
  }

  private ColumnFamilyOptions options(boolean pointLookups) {
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setCacheIndexAndFilterBlocks(true)
        .setPinL0FilterAndIndexBlocksInCache(true);
    if (pointLookups) {
      // has(cid) and "is this entry applied" are point lookups that mostly miss during sync.
      table.setFilterPolicy(new BloomFilter(10, false));
    }
    ColumnFamilyOptions options = new ColumnFamilyOptions()
        .setTableFormatConfig(table)
        .setCompressionType(CompressionType.LZ4_COMPRESSION);
    cfOptions.add(options);
    return options;
  }

  private void checkFormat() throws IOException {
    byte[] stored = get(Family.META, FORMAT_KEY);
    if (stored == null) {
      try (WriteBatch batch = new WriteBatch()) {
        batch.put(handle(Family.META), FORMAT_KEY, Integer.toString(FORMAT_VERSION).getBytes(StandardCharsets.UTF_8));
        writeDurably(batch);
      } catch (RocksDBException e) {
        throw asIOException("cannot initialise the store in " + dir, e);
      }
      return;
    }
    String version = new String(stored, StandardCharsets.UTF_8);
    int parsed;
    try {
      parsed = Integer.parseInt(version);
    } catch (NumberFormatException e) {
      throw new InvalidFormatException("store", dir + " has format version '" + version + "'");
    }
    if (parsed < FORMAT_VERSION_START || parsed > FORMAT_VERSION) {
      throw new InvalidFormatException("store", dir + " has format version " + version
          + "; this build reads versions " + FORMAT_VERSION_START + "-" + FORMAT_VERSION);
    }
    openedFormat = parsed;
  }

  /** The layout version the store had when opened: below {@link #FORMAT_VERSION} until migrated. */
  public int openedFormat() {
    return openedFormat;
  }

  /** Records that the store now has the current layout, once its migration is durable. */
  public void markFormat() throws IOException {
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(handle(Family.META), FORMAT_KEY, Integer.toString(FORMAT_VERSION).getBytes(StandardCharsets.UTF_8));
      writeDurably(batch);
    } catch (RocksDBException e) {
      throw asIOException("cannot record the store's format in " + dir, e);
    }
    openedFormat = FORMAT_VERSION;
  }

  public Path dir() {
    return dir;
  }

  public ColumnFamilyHandle handle(Family family) {
    return handles.get(family);
  }

  /** Applies {@code batch} atomically and returns once it is on disk (WAL synced). */
  public void writeDurably(WriteBatch batch) throws IOException {
    try {
      db.write(durable, batch);
    } catch (RocksDBException e) {
      throw asIOException("write failed", e);
    }
  }

  public byte[] get(Family family, byte[] key) throws IOException {
    try {
      return db.get(handles.get(family), verifying, key);
    } catch (RocksDBException e) {
      throw asIOException("read failed", e);
    }
  }

  /** Whether a key may exist: false is certain, true must be confirmed with {@link #get}. */
  public boolean mayExist(Family family, byte[] key) {
    return db.keyMayExist(handles.get(family), key, null);
  }

  public RocksIterator iterator(Family family) {
    return db.newIterator(handles.get(family), verifying);
  }

  static IOException asIOException(String what, RocksDBException e) {
    Status status = e.getStatus();
    if (status != null && status.getCode() == Status.Code.Corruption) {
      return new IOException("storage corruption detected (" + what + "): " + e.getMessage(), e);
    }
    return new IOException(what + ": " + e.getMessage(), e);
  }

  static boolean isCorruption(RocksDBException e) {
    return e.getStatus() != null && e.getStatus().getCode() == Status.Code.Corruption;
  }

  /**
   * Closes the engine once; later calls do nothing. Native handles must never be touched after
   * they are freed (RocksDB would crash the JVM, not throw), hence the guard.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (db != null) {
      try {
        db.syncWal();
      } catch (RocksDBException e) {
        // Every acknowledged write was synced already; this only tidies up.
      }
      for (ColumnFamilyHandle handle : allHandles) {
        handle.close();
      }
      db.close();
    }
    if (durable != null) {
      durable.close();
    }
    if (verifying != null) {
      verifying.close();
    }
    closeOptions();
  }

  private void closeOptions() {
    for (ColumnFamilyOptions options : cfOptions) {
      options.close();
    }
    dbOptions.close();
    cache.close();
  }
}
