// Imported first by tests that read n8n's log: n8n's default level (info) instead of the harness's warn,
// which turns the Logger's info method into a fixed no-op. Each test file runs in its own process.
process.env.N8N_LOG_LEVEL = 'info';
