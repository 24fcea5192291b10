import { headerFields, kindLabel, overallLine, requestCounts, STATUS_LABEL } from './report';
import type { ReportData } from './report';
import type { CheckStatus } from './types';

/** The report as one self-contained HTML page: inline styles, no script, no external asset. */

export function escapeHtml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const COLORS: Record<CheckStatus, [string, string]> = {
	pass: ['#e6f4ea', '#1e6b34'],
	warn: ['#fff4e0', '#8a5300'],
	fail: ['#fde8e8', '#a32020'],
	'not-checkable': ['#e8eefb', '#2a4a8a'],
};

function badge(status: CheckStatus): string {
	return `<span class="badge ${status}">${escapeHtml(STATUS_LABEL[status])}</span>`;
}

const STYLE = `
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;margin:0;background:#f6f8fa;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:28px 24px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.summary{font-size:15px;margin:6px 0 18px;padding:10px 14px;border-radius:6px;border-left:5px solid}
.summary.pass{background:#e6f4ea;border-color:#1e6b34}.summary.warn{background:#fff4e0;border-color:#8a5300}.summary.fail{background:#fde8e8;border-color:#a32020}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de;font-size:13.5px}
th,td{border-bottom:1px solid #d0d7de;padding:8px 10px;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
table.meta th{width:150px}
td.evidence{width:48%}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
${(Object.keys(COLORS) as CheckStatus[]).map((s) => `.badge.${s}{background:${COLORS[s][0]};color:${COLORS[s][1]}}`).join('')}
code,.mono{font-family:SFMono-Regular,Consolas,"Liberation Mono",monospace;font-size:12.5px;word-break:break-all}
footer{margin-top:24px;color:#57606a;font-size:12.5px}
details summary{cursor:pointer;margin:6px 0}
@media print{body{background:#fff}details{display:block}}
`;

export function renderHtml(data: ReportData): string {
	const { meta, run, summary } = data;
	const metaRows = headerFields(meta)
		.map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
		.join('');
	const checks = run.results
		.map((r) => `<tr><td><strong>${escapeHtml(r.check)}</strong></td><td>${badge(r.status)}</td><td class="evidence">${escapeHtml(r.evidence)}</td><td>${escapeHtml(r.whatToDo)}</td></tr>`)
		.join('');
	const requests = run.requests
		.map((r, i) => `<tr><td>${i + 1}</td><td>${escapeHtml(kindLabel(r))}</td><td class="mono">${escapeHtml(`${r.method} ${r.url}`)}</td><td>${r.status ?? 'no answer'}</td><td>${r.ms} ms</td></tr>`)
		.join('');
	const practice = meta.credential.practiceCode ? ` for practice ${escapeHtml(meta.credential.practiceCode)}` : '';
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Production readiness report${practice}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Production readiness report${practice}</h1>
<div class="summary ${summary.overall}">${escapeHtml(overallLine(data))}</div>
<table class="meta">${metaRows}</table>
<h2>Checks</h2>
<table><thead><tr><th>Check</th><th>Status</th><th>Evidence</th><th>What to do</th></tr></thead><tbody>${checks}</tbody></table>
<h2>Requests made</h2>
<p>${escapeHtml(requestCounts(data))}</p>
<details open><summary>Every request, in order (URLs without their query)</summary>
<table><thead><tr><th>#</th><th>Kind</th><th>Request</th><th>Status</th><th>Time</th></tr></thead><tbody>${requests}</tbody></table>
</details>
<footer>Made by the eClinicalWorks node's Server &gt; Check Production Readiness operation. The report holds no patient data: reads are counted, never copied. No secret, key or token appears in it.</footer>
</main>
</body>
</html>
`;
}
