// A throwaway self-signed certificate for 127.0.0.1/localhost, made with the openssl command.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM key and certificate; the certificate doubles as the CA a client trusts. */
export interface TestCertificate {
  key: Buffer
  cert: Buffer
}

/** Makes a certificate valid for 127.0.0.1 and localhost (needs `openssl` on PATH). */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
