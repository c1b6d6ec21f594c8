/** A test certificate for 127.0.0.1 and localhost, made with openssl (self-signed: it is its own CA). */
import { join } from 'node:path';

export interface TestCertificate {
  dir: string;
  cert: string;
  key: string;
}

/** Writes cert.pem and key.pem into `dir` (an EC key, valid for a day) and returns their paths. */
export function makeCertificate(dir: string): TestCertificate {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = Bun.spawnSync(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=threadchat test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stderr: 'pipe' });
  if (made.exitCode !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr.toString()}`);
  return { dir, cert, key };
}

/**
 * The certificate every test server uses when the whole run is over HTTPS (scripts/test.sh makes it, and points
 * NODE_EXTRA_CA_CERTS and CURL_CA_BUNDLE at it so fetch and curl trust it), or null for plain HTTP.
 */
export function suiteCertificate(): TestCertificate | null {
  const dir = process.env.THREADCHAT_TEST_TLS_DIR;
  return dir ? { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } : null;
}
