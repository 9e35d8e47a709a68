// The TLS files `xfsguard serve` starts with (--tls-cert, --tls-key, --tls-client-ca), read and
// checked once at start-up: a bad, unreadable or mismatched file is one line and exit 2 here, not
// a failed handshake for every client later. The key is a secret like the token: never o+r.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readRegularFileSync } from '../../probes/regular-file.js';
import { httpsOptions, type TlsConfig } from '../http/tls.js';
import { PrivateFileError, readPrivateFileSync } from './private-file.js';

export class TlsFilesError extends Error {
  override name = 'TlsFilesError';
}

export interface TlsFiles {
  cert: string | undefined;
  key: string | undefined;
  clientCa: string | undefined;
}

/** A certificate chain or CA bundle is a few KiB; this bounds a mistaken path. */
const MAX_PEM_BYTES = 1 << 20;

/** OpenSSL's reason without its "error:0480006C:PEM routines::" prefix. */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0]!.replace(/^error:[0-9A-F]+:[^:]*::?/, '');
}

function readPem(flag: string, file: string): string {
  try {
    return readRegularFileSync(file, MAX_PEM_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TlsFilesError(`${flag} ${file} cannot be read (${err.code ?? err.message})`);
  }
}

function certificate(flag: string, file: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsFilesError(`${flag} ${file} is not a PEM certificate (${reason(err)})`);
  }
}

function privateKey(file: string): { pem: string; key: KeyObject } {
  let pem: string;
  try {
    pem = readPrivateFileSync(file, MAX_PEM_BYTES);
  } catch (err) {
    if (!(err instanceof PrivateFileError)) throw err;
    if (err.reason === 'world_readable') throw new TlsFilesError(`--tls-key ${file} is readable by every user: chmod 0640 it (and make a new key)`);
    throw new TlsFilesError(`--tls-key ${file} cannot be read (${err.detail})`);
  }
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (err) {
    throw new TlsFilesError(`--tls-key ${file} is not an unencrypted PEM private key (${reason(err)})`);
  }
}

/**
 * The TLS configuration of the TCP listener, or null without --tls-cert/--tls-key. Certificate and
 * key go together; a client CA needs both.
 */
export function loadTlsFiles(files: TlsFiles, warn: (m: string) => void = () => undefined): TlsConfig | null {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new TlsFilesError(`--tls-cert and --tls-key go together; got only ${files.cert !== undefined ? '--tls-cert' : '--tls-key'}`);
  }
  if (files.cert === undefined || files.key === undefined) {
    if (files.clientCa !== undefined) throw new TlsFilesError('--tls-client-ca needs --tls-cert and --tls-key (client certificates are a TLS feature)');
    return null;
  }
  const certPem = readPem('--tls-cert', files.cert);
  const cert = certificate('--tls-cert', files.cert, certPem);
  const { pem: keyPem, key } = privateKey(files.key);
  if (!cert.checkPrivateKey(key)) throw new TlsFilesError(`--tls-key ${files.key} does not belong to the certificate in --tls-cert ${files.cert}`);
  if (Date.parse(cert.validTo) < Date.now()) warn(`--tls-cert ${files.cert} expired on ${cert.validTo}: clients will refuse it`);
  let clientCa: string | null = null;
  if (files.clientCa !== undefined) {
    clientCa = readPem('--tls-client-ca', files.clientCa);
    certificate('--tls-client-ca', files.clientCa, clientCa);
  }
  const config = { cert: certPem, key: keyPem, clientCa };
  try {
    createSecureContext(httpsOptions(config)); // what the listener will do: anything else OpenSSL refuses
  } catch (err) {
    throw new TlsFilesError(`--tls-cert/--tls-key: TLS cannot use them (${reason(err)})`);
  }
  return config;
}
