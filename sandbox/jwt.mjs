// JWS compact signing/verification for the SMART client assertion (RS384, ES384), node:crypto only.
import crypto from 'node:crypto';

const ALGS = {
	RS384: { hash: 'sha384', dsaEncoding: undefined },
	ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' },
	RS256: { hash: 'sha256', dsaEncoding: undefined },
	ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
};

const enc = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/**
 * Sign a JWT with the given header and payload.
 * @param {object} header must include alg
 * @param {object} payload
 * @param {string|crypto.KeyObject} privateKey PEM or KeyObject
 */
export function signJwt(header, payload, privateKey) {
	const a = ALGS[header.alg];
	if (!a) throw new Error(`unsupported alg ${header.alg}`);
	const input = `${enc(header)}.${enc(payload)}`;
	const key = typeof privateKey === 'string' ? crypto.createPrivateKey(privateKey) : privateKey;
	const sig = crypto.sign(a.hash, Buffer.from(input), a.dsaEncoding ? { key, dsaEncoding: a.dsaEncoding } : key);
	return `${input}.${sig.toString('base64url')}`;
}

/**
 * Build a SMART Backend Services client assertion (for tests and scripts).
 * @param {{ clientId: string, tokenUrl: string, privateKeyPem: string, alg?: 'RS384'|'ES384', kid?: string,
 *   expSeconds?: number, jti?: string, now?: number, header?: object, claims?: object }} o
 *   expSeconds: seconds from now until exp (default 240; negative for an expired assertion);
 *   now: ms clock to use (default Date.now()); header/claims: extra or overriding fields.
 * @returns {string} compact JWS
 */
export function signAssertion({ clientId, tokenUrl, privateKeyPem, alg = 'RS384', kid, expSeconds = 240, jti, now, header = {}, claims = {} }) {
	const t = Math.floor((now ?? Date.now()) / 1000);
	return signJwt(
		{ alg, typ: 'JWT', ...(kid ? { kid } : {}), ...header },
		{ iss: clientId, sub: clientId, aud: tokenUrl, exp: t + expSeconds, iat: t, jti: jti ?? crypto.randomUUID(), ...claims },
		privateKeyPem,
	);
}

/** Decode without verifying. Throws on malformed input. */
export function decodeJwt(token) {
	const parts = String(token).split('.');
	if (parts.length !== 3) throw new Error('not a compact JWS');
	const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
	const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
	if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') throw new Error('bad JSON');
	return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/** Verify a decoded JWS signature with a public key (KeyObject, PEM or JWK object). */
export function verifySignature(decoded, alg, publicKey) {
	const a = ALGS[alg];
	if (!a) return false;
	const key = publicKey instanceof crypto.KeyObject
		? publicKey
		: typeof publicKey === 'string'
			? crypto.createPublicKey(publicKey)
			: crypto.createPublicKey({ key: publicKey, format: 'jwk' });
	try {
		return crypto.verify(a.hash, Buffer.from(decoded.signingInput), a.dsaEncoding ? { key, dsaEncoding: a.dsaEncoding } : key, decoded.signature);
	} catch {
		return false;
	}
}
