/**
 * A local certificate for 127.0.0.1 and localhost, made with openssl: self-signed, so it is its own authority
 * (trust it with CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS or --cacert). The soak's and the bench's --tls use it, and the
 * tests. The README gives the same openssl command.
 */
import { join } from 'node:path';

export interface LocalCertificate {
  dir: string;
  /** PEM file paths. */
  cert: string;
  key: string;
}

/** Writes cert.pem and key.pem into `dir` (an EC P-256 key, valid for `days`) and returns their paths. */
export function makeLocalCertificate(dir: string, days = 1): LocalCertificate {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!Bun.which('openssl')) throw new Error('openssl is not installed: install it (apt-get install openssl) to make a local certificate');
  const made = Bun.spawnSync(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=threadchat local', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stderr: 'pipe' });
  if (made.exitCode !== 0) throw new Error(`openssl could not make a local certificate: ${made.stderr.toString().trim()}`);
  return { dir, cert, key };
}
