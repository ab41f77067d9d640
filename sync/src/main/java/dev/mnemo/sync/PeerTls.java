package dev.mnemo.sync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for node-to-node calls: the certificates a node trusts when it calls a peer over https.
 * Peers' certificates are checked as any https client checks them (chain to a trusted CA, host
 * name in the certificate); the node's own identity still comes from the signed request
 * ({@link PeerAuth}), so TLS adds secrecy and server authentication, not who the caller is.
 */
public final class PeerTls {
  private PeerTls() {}

  /**
   * An SSL context that trusts exactly the certificates in {@code caPem} (one or more PEM
   * certificates: a private CA, or the peers' self-signed certificates themselves).
   */
  public static SSLContext trusting(Path caPem) throws IOException {
    try (InputStream in = Files.newInputStream(caPem)) {
      Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw new IOException(caPem + " holds no PEM certificate");
      }
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates) {
        trusted.setCertificateEntry("ca-" + i++, certificate);
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the certificates in " + caPem + ": " + e.getMessage(), e);
    }
  }
}
