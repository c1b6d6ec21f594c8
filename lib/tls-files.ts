/**
 * The certificate and key `--tls-cert` and `--tls-key` name, read and checked at start: a missing, unreadable or
 * malformed file, or a key that is not the certificate's, stops the server with a message that names the file,
 * rather than a TLS error on the first connection.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from './config.ts';

export interface TlsFiles {
  /** PEM text: the certificate (and any chain after it), and its private key. */
  cert: string;
  key: string;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${what} "${path}": cannot read it (${code ?? String(error)}); give the path of a PEM file this user can read`);
  }
}

/** The PEM files of the config, or null when it serves plain HTTP. Throws ConfigError naming the bad file. */
export function readTlsFiles(config: Pick<Config, 'tls-cert' | 'tls-key'>): TlsFiles | null {
  const certPath = config['tls-cert'];
  const keyPath = config['tls-key'];
  if (!certPath && !keyPath) return null;
  if (!certPath || !keyPath) {
    throw new ConfigError(`--tls-cert (CHAT_TLS_CERT) and --tls-key (CHAT_TLS_KEY) go together: ${certPath ? '--tls-key' : '--tls-cert'} is missing`);
  }
  const cert = read(certPath, '--tls-cert (CHAT_TLS_CERT)');
  const key = read(keyPath, '--tls-key (CHAT_TLS_KEY)');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`--tls-cert (CHAT_TLS_CERT) "${certPath}": not a PEM certificate (it should start with -----BEGIN CERTIFICATE-----)`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`--tls-key (CHAT_TLS_KEY) "${keyPath}": not a PEM private key (without a passphrase)`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`--tls-key (CHAT_TLS_KEY) "${keyPath}": this key is not the key of the certificate in "${certPath}"`);
  }
  return { cert, key };
}
