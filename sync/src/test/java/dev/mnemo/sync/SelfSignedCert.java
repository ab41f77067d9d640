package dev.mnemo.sync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;

/**
 * A self-signed certificate for 127.0.0.1 and localhost made by the JDK's own keytool (the JDK
 * has no API that makes certificates): a PKCS#12 store, the certificate as PEM, and the private
 * key as PKCS#8 PEM, as an operator would hand them to a node.
 */
record SelfSignedCert(Path keyStore, Path certPem, Path keyPem) {
  static final char[] PASSWORD = "changeit".toCharArray();

  static SelfSignedCert create(Path dir, String name) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path store = dir.resolve(name + ".p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(List.of(keytool, "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
        "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)));
    Path cert = dir.resolve(name + ".crt.pem");
    run(List.of(keytool, "-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(), "-storepass", new String(PASSWORD),
        "-file", cert.toString()));
    Path key = dir.resolve(name + ".key.pem");
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASSWORD);
      byte[] pkcs8 = ks.getKey(name, PASSWORD).getEncoded();
      Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pkcs8)
          + "\n-----END PRIVATE KEY-----\n");
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
    return new SelfSignedCert(store, cert, key);
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
