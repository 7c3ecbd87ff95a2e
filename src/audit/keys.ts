// The checkpoint signing key: Ed25519, `<DATA_DIR>/checkpoint-key.pem` (PKCS#8), created 0600 on
// first use. The public key is what auditors keep; its SHA-256 (SPKI DER, hex) is the checkpoint's keyId.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const KEY_FILE = 'checkpoint-key.pem';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  path: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Reads a PEM public key (or derives it from a private one); throws with the file named. */
export function readPublicKey(path: string): KeyObject {
  const pem = readFileSync(path, 'utf8');
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} holds a ${key.asymmetricKeyType} key, not Ed25519`);
  return key;
}

/** Written aside and linked into place, so two first uses never leave two keys or half a file. */
function createKeyFile(path: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(aside, 'wx', 0o600);
  try {
    writeSync(fd, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(aside);
  }
}

/** The data directory's signing key, created when absent. */
export function signingKey(dataDir: string, create = true): SigningKey {
  const path = join(dataDir, KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw error;
    mkdirSync(dataDir, { recursive: true });
    createKeyFile(path);
    pem = readFileSync(path, 'utf8');
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), path };
}
