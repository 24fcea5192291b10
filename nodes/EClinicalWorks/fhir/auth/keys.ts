import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';

import { InputError } from '../errors';
import { loadPrivateKey } from './assertion';
import type { SigningAlgorithm } from './assertion';

/** Key pairs and JWKS for the app registration (the server fetches the public keys from the JWKS URL). */

export interface PublicJwk {
	kty: string;
	kid: string;
	alg: SigningAlgorithm;
	use: 'sig';
	key_ops: ['verify'];
	n?: string;
	e?: string;
	crv?: string;
	x?: string;
	y?: string;
}

export interface Jwks {
	keys: PublicJwk[];
}

export interface GeneratedKeyPair {
	algorithm: SigningAlgorithm;
	kid: string;
	/** PKCS#8 PEM: paste into the credential's Private Key. */
	privateKeyPem: string;
	publicJwk: PublicJwk;
	/** Host this JSON at the JWKS URL registered with the server. */
	jwks: Jwks;
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: the default `kid`. */
export function jwkThumbprint(jwk: JsonWebKey): string {
	let members: Record<string, unknown>;
	if (jwk.kty === 'RSA') members = { e: jwk.e, kty: 'RSA', n: jwk.n };
	else if (jwk.kty === 'EC') members = { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
	else throw new InputError('Private Key', `has an unsupported key type ${String(jwk.kty)}`, 'Use an RSA or EC P-384 key.');
	return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function toPublicJwk(jwk: JsonWebKey, algorithm: SigningAlgorithm, kid: string): PublicJwk {
	const out: PublicJwk = { kty: String(jwk.kty), kid, alg: algorithm, use: 'sig', key_ops: ['verify'] };
	if (jwk.kty === 'RSA') {
		out.n = jwk.n;
		out.e = jwk.e;
	} else {
		out.crv = jwk.crv;
		out.x = jwk.x;
		out.y = jwk.y;
	}
	return out;
}

/** A new key pair: RS384 with RSA 2048 or 3072 bits, or ES384 with P-384. */
export function generateKeyPair(options: { algorithm: SigningAlgorithm; modulusLength?: 2048 | 3072 | 4096; kid?: string }): GeneratedKeyPair {
	const algorithm = options.algorithm;
	const pair =
		algorithm === 'ES384'
			? generateKeyPairSync('ec', { namedCurve: 'P-384' })
			: generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048, publicExponent: 0x10001 });
	const privateKeyPem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
	const jwk = pair.publicKey.export({ format: 'jwk' });
	const kid = options.kid?.trim() || jwkThumbprint(jwk);
	const publicJwk = toPublicJwk(jwk, algorithm, kid);
	return { algorithm, kid, privateKeyPem, publicJwk, jwks: { keys: [publicJwk] } };
}

/** The public JWKS for a private key (checked against the algorithm); kid defaults to the thumbprint. */
export function publicJwksFromPrivateKey(pem: string, algorithm: SigningAlgorithm, kid?: string): { kid: string; publicJwk: PublicJwk; jwks: Jwks } {
	const privateKey = loadPrivateKey(pem, algorithm);
	const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
	const keyId = kid?.trim() || jwkThumbprint(jwk);
	const publicJwk = toPublicJwk(jwk, algorithm, keyId);
	return { kid: keyId, publicJwk, jwks: { keys: [publicJwk] } };
}

/** Default kid for a private key: RFC 7638 thumbprint of its public part. */
export function defaultKeyId(pem: string, algorithm: SigningAlgorithm): string {
	return publicJwksFromPrivateKey(pem, algorithm).kid;
}
