import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { InputError } from '../errors';

/**
 * SMART Backend Services client assertion (a JWT signed with the app's private key).
 * RS384 = RSASSA-PKCS1-v1_5 with SHA-384; ES384 = ECDSA P-384 with SHA-384, signature in the
 * IEEE P1363 (r||s) form JWS requires, not DER.
 */

export type SigningAlgorithm = 'RS384' | 'ES384';

export const SIGNING_ALGORITHMS: SigningAlgorithm[] = ['RS384', 'ES384'];

export interface AssertionInput {
	clientId: string;
	tokenUrl: string;
	privateKey: string | KeyObject;
	algorithm: SigningAlgorithm;
	keyId: string;
	/** Optional `jku` header: must equal the JWKS URL registered with the server. */
	jwksUrl?: string;
	/** ms clock. */
	now?: number;
	/** Seconds until `exp`; kept below the 300 s SMART allows. Default 270. */
	lifetimeSeconds?: number;
}

const PEM_LINE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/**
 * Repairs a PEM pasted into a form: literal "\n" sequences, CRLF, surrounding quotes, or the whole
 * key on one line (line breaks turned into spaces). Returns the canonical 64-column form.
 */
export function normalizePem(text: string): string {
	let pem = String(text ?? '').trim();
	if ((pem.startsWith('"') && pem.endsWith('"')) || (pem.startsWith("'") && pem.endsWith("'"))) pem = pem.slice(1, -1).trim();
	pem = pem.replace(/\\r\\n|\\n|\\r/g, '\n').replace(/\r\n?/g, '\n');
	const match = PEM_LINE.exec(pem);
	if (!match) return pem;
	const label = match[1];
	const inner = match[2];
	const headers: string[] = [];
	const lines = inner.split('\n').map((l) => l.trim()).filter((l) => l !== '');
	// Encrypted PKCS#1 keys carry "Proc-Type:" / "DEK-Info:" header lines: keep them.
	while (lines.length > 0 && /^[A-Za-z-]+:/.test(lines[0])) headers.push(lines.shift() as string);
	const base64 = lines.join('').replace(/\s+/g, '');
	const wrapped = base64.match(/.{1,64}/g) ?? [];
	return [`-----BEGIN ${label}-----`, ...headers, ...(headers.length ? [''] : []), ...wrapped, `-----END ${label}-----`].join('\n');
}

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
	return value === 'RS384' || value === 'ES384';
}

const KEY_FIX =
	'Paste the whole private key including the "-----BEGIN ... PRIVATE KEY-----" and "-----END ... PRIVATE KEY-----" lines (PKCS#8, PKCS#1 RSA or EC P-384, not encrypted). Use the node\'s "Generate Key Pair" operation or the openssl commands in the documentation (docs/credentials.md) to make one.';

/** Parses the private key and checks it fits the algorithm. Errors name the field and the fix. */
export function loadPrivateKey(pemText: string, algorithm: SigningAlgorithm): KeyObject {
	if (!isSigningAlgorithm(algorithm)) {
		throw new InputError('Algorithm', `"${String(algorithm)}" is not supported`, 'Choose RS384 (RSA key) or ES384 (EC P-384 key).');
	}
	const pem = normalizePem(pemText);
	if (pem === '') throw new InputError('Private Key', 'is empty', KEY_FIX);
	if (/-----BEGIN (RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)) {
		throw new InputError('Private Key', 'holds a public key or certificate, not a private key', 'Paste the private key (kept secret by you); the public key goes into the JWKS registered with the server.');
	}
	if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
		throw new InputError('Private Key', 'is encrypted with a passphrase', 'Export it without a passphrase, e.g. `openssl pkey -in key.pem -out key-plain.pem`.');
	}
	if (!PEM_LINE.test(pem)) throw new InputError('Private Key', 'is not a PEM private key', KEY_FIX);
	let parsed: KeyObject | undefined;
	try {
		parsed = createPrivateKey({ key: pem, format: 'pem' });
	} catch {
		parsed = undefined;
	}
	if (!parsed) throw new InputError('Private Key', 'could not be read (damaged or incomplete PEM)', KEY_FIX);
	const key = parsed;
	const type = key.asymmetricKeyType;
	if (algorithm === 'RS384') {
		if (type === 'ec') {
			throw new InputError('Algorithm', 'RS384 needs an RSA key, but the Private Key is an EC key', 'Set Algorithm to ES384, or paste an RSA private key.');
		}
		if (type !== 'rsa') throw new InputError('Private Key', `is a ${type ?? 'unknown'} key; RS384 needs an RSA key`, KEY_FIX);
		const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
		if (bits < 2048) {
			throw new InputError('Private Key', `is an RSA key of ${bits} bits; at least 2048 bits are required`, 'Generate a new 2048 or 3072-bit RSA key and register its public key.');
		}
	} else {
		if (type === 'rsa') {
			throw new InputError('Algorithm', 'ES384 needs an EC P-384 key, but the Private Key is an RSA key', 'Set Algorithm to RS384, or paste an EC P-384 private key.');
		}
		if (type !== 'ec') throw new InputError('Private Key', `is a ${type ?? 'unknown'} key; ES384 needs an EC P-384 key`, KEY_FIX);
		const curve = key.asymmetricKeyDetails?.namedCurve;
		if (curve !== 'secp384r1') {
			throw new InputError('Private Key', `is an EC key on curve ${curve ?? 'unknown'}; ES384 needs P-384 (secp384r1)`, 'Generate a P-384 key: `openssl ecparam -name secp384r1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out key.pem`.');
		}
	}
	return key;
}

function base64url(data: string | Uint8Array): string {
	return Buffer.from(data).toString('base64url');
}

/** Signs `header.payload` with RS384 or ES384 and returns the compact JWS. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, algorithm: SigningAlgorithm): string {
	const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
	const signature =
		algorithm === 'ES384'
			? sign('sha384', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
			: sign('sha384', Buffer.from(input), key);
	return `${input}.${base64url(signature)}`;
}

/** A fresh client assertion: `iss` = `sub` = client id, `aud` = token URL, `exp` < 5 min, random `jti`. */
export function createClientAssertion(input: AssertionInput): string {
	const key = typeof input.privateKey === 'string' ? loadPrivateKey(input.privateKey, input.algorithm) : input.privateKey;
	if (!input.keyId) throw new InputError('Key ID', 'is empty', 'Enter the key ID (kid) of the key registered in the JWKS.');
	const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
	const lifetime = Math.min(Math.max(input.lifetimeSeconds ?? 270, 30), 290);
	const header: Record<string, unknown> = { alg: input.algorithm, kid: input.keyId, typ: 'JWT' };
	if (input.jwksUrl) header.jku = input.jwksUrl;
	const payload = {
		iss: input.clientId,
		sub: input.clientId,
		aud: input.tokenUrl,
		exp: nowSeconds + lifetime,
		iat: nowSeconds,
		jti: randomUUID(),
	};
	return signJwt(header, payload, key, input.algorithm);
}
