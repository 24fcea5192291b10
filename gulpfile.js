// Copies what tsc does not emit (icons and codex files) into dist/, as n8n's classic starter did.
// `clean` empties dist/ before tsc, so files of removed or renamed sources are never packed.
const { rmSync } = require('node:fs');
const { src, dest } = require('gulp');

function clean(done) {
	rmSync('dist', { recursive: true, force: true });
	done();
}

function copyAssets() {
	return src(['nodes/**/*.{png,svg,json}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(
		dest('dist'),
	);
}

exports.clean = clean;
exports['build:icons'] = copyAssets;
exports.default = copyAssets;
