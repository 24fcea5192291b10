import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
	parseErrorBody,
	isTransient,
} from '../nodes/EClinicalWorks/fhir/operationOutcome.ts';

test('reads severity, code, diagnostics and details text of every issue', () => {
	const parsed = parseErrorBody(
		JSON.stringify({
			resourceType: 'OperationOutcome',
			issue: [
				{ severity: 'error', code: 'forbidden', details: { text: 'Scope system/Patient.read is required' }, diagnostics: 'scope check' },
				{ severity: 'warning', code: 'processing', diagnostics: 'Parameter _include ignored' },
			],
		}),
	);
	assert.equal(parsed.issues.length, 2);
	assert.equal(parsed.issues[0].details, 'Scope system/Patient.read is required');
	assert.equal(
		parsed.summary,
		'error forbidden: Scope system/Patient.read is required (scope check); warning processing: Parameter _include ignored',
	);
});

test('reads OAuth error bodies', () => {
	const parsed = parseErrorBody({ error: 'invalid_client', error_description: 'Unknown kid' });
	assert.equal(parsed.oauthError, 'invalid_client');
	assert.equal(parsed.summary, 'invalid_client: Unknown kid');
});

test('says nothing rather than echoing an unknown body (it may hold patient data)', () => {
	for (const body of ['<html>Bad gateway</html>', '{"resourceType":"Patient","name":[{"family":"Doe"}]}', '', '{broken', undefined]) {
		const parsed = parseErrorBody(body);
		assert.equal(parsed.summary, '');
		assert.deepEqual(parsed.issues, []);
	}
});

test('clips very long diagnostics and tells transient outcomes apart', () => {
	const parsed = parseErrorBody({
		resourceType: 'OperationOutcome',
		issue: [{ severity: 'error', code: 'transient', diagnostics: 'x'.repeat(2000) }],
	});
	assert.ok(parsed.issues[0].diagnostics.length <= 501);
	assert.equal(isTransient(parsed), true);
	assert.equal(isTransient(parseErrorBody({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] })), false);
});

test('a short one-line plain-text body is the server\'s reason (401 "Token expired"); anything else says nothing', () => {
	assert.equal(parseErrorBody('Token expired').summary, 'Token expired');
	assert.equal(parseErrorBody('  Token expired\n').summary, 'Token expired');
	for (const body of ['line one\nline two', 'x'.repeat(201), '<?xml version="1.0"?><Error/>', '[1,2]', '{"a":1} trailing']) {
		assert.equal(parseErrorBody(body).summary, '', body.slice(0, 30));
	}
});
