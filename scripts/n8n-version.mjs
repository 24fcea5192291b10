// The n8n version used by the e2e tests, the demo and the browser test.
// Pinned here and nowhere else. n8n 2.41.x does not install from the registry
// (its dependency @n8n/agents@0.26.2 is missing there); 2.40.7 does.
export const N8N_VERSION = process.env.N8N_E2E_VERSION || '2.40.7';
