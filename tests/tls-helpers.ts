/** Certificates for the HTTPS tests: one made per test file, or the one the whole run uses in its HTTPS pass. */
import { join } from 'node:path';
import { makeLocalCertificate, type LocalCertificate } from '../scripts/local-cert.ts';

export type TestCertificate = LocalCertificate;

/** Writes a self-signed cert.pem and key.pem for 127.0.0.1 into `dir` (scripts/local-cert.ts). */
export const makeCertificate = (dir: string): TestCertificate => makeLocalCertificate(dir);

/**
 * The certificate every test server uses when the whole run is over HTTPS (scripts/test.sh makes it, and points
 * NODE_EXTRA_CA_CERTS and CURL_CA_BUNDLE at it so fetch and curl trust it), or null for plain HTTP.
 */
export function suiteCertificate(): TestCertificate | null {
  const dir = process.env.THREADCHAT_TEST_TLS_DIR;
  return dir ? { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } : null;
}
