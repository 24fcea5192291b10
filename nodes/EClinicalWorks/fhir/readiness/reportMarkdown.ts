import { headerFields, kindLabel, overallLine, requestCounts, STATUS_LABEL } from './report';
import type { ReportData } from './report';

/** The report as Markdown: readable as plain text, and rendered by any Markdown viewer. */

function cell(text: string): string {
	return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdown(data: ReportData): string {
	const lines: string[] = [];
	lines.push('# Production readiness report', '');
	lines.push(overallLine(data), '');
	lines.push('| | |', '| --- | --- |');
	for (const [label, value] of headerFields(data.meta)) lines.push(`| ${cell(label)} | ${cell(value)} |`);
	lines.push('', '## Checks', '');
	lines.push('| Check | Status | Evidence | What to do |', '| --- | --- | --- | --- |');
	for (const r of data.run.results) lines.push(`| ${cell(r.check)} | ${STATUS_LABEL[r.status]} | ${cell(r.evidence)} | ${cell(r.whatToDo)} |`);
	lines.push('', '## Requests made', '', requestCounts(data), '');
	lines.push('| # | Kind | Request | Status | Time |', '| --- | --- | --- | --- | --- |');
	data.run.requests.forEach((r, i) => {
		lines.push(`| ${i + 1} | ${kindLabel(r)} | ${cell(`${r.method} ${r.url}`)} | ${r.status ?? 'no answer'} | ${r.ms} ms |`);
	});
	lines.push('', 'URLs are shown without their query. The report holds no patient data: reads are counted, never copied.', '');
	return lines.join('\n');
}
