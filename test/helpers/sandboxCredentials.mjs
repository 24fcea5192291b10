// The credential the tests in n8n use (bulk, trigger): "Other SMART server" on the sandbox, the client's own
// registered scopes (bulk scopes included), the practice in the base URL template.
export function credentials(sb, { clientId = 'sandbox-rs384', practiceCode = sb.practices[0] } = {}) {
	const c = sb.clients.find((x) => x.clientId === clientId);
	return {
		eClinicalWorksApi: {
			environment: 'custom',
			baseUrl: `${sb.origin}/fhir/r4/{practiceCode}`,
			practiceCode,
			tokenUrl: sb.tokenUrl,
			authMethod: 'privateKeyJwt',
			clientId: c.clientId,
			privateKey: c.privateKeyPem,
			keyId: c.kid,
			algorithm: c.alg,
			customScopes: c.scopes,
		},
	};
}
