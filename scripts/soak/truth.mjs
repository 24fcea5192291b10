// Ground truth: what the sandbox holds (or what changed in it), against what the node delivered.

/**
 * The trigger's ledger: every version of every visit the soak made (from the admin API, in order),
 * and every item the trigger emitted. A change is covered when that version or a later one of the
 * same visit was emitted (a poll sees the visit as it is now, so changes between two polls come
 * out as one item). Lost: changes never covered. Duplicated: a version emitted again, or an older
 * version emitted after a newer one. Spurious: an item for a version the soak never made.
 */
export class VersionLedger {
	constructor() {
		/** id -> versionIds in the order they were made */
		this.versions = new Map();
		this.emitted = new Map();
		this.latestEmitted = new Map();
		this.duplicated = [];
		this.spurious = [];
		this.changes = 0;
	}

	change(id, versionId) {
		const list = this.versions.get(id) ?? [];
		list.push(String(versionId));
		this.versions.set(id, list);
		this.changes += 1;
	}

	emit(id, versionId, where) {
		const list = this.versions.get(id);
		const index = list ? list.lastIndexOf(String(versionId)) : -1;
		if (index < 0) {
			this.spurious.push({ id, versionId, where });
			return;
		}
		const key = `${id}|${versionId}`;
		const times = (this.emitted.get(key) ?? 0) + 1;
		this.emitted.set(key, times);
		const latest = this.latestEmitted.get(id) ?? -1;
		if (times > 1) this.duplicated.push({ id, versionId, where, why: `version ${versionId} emitted ${times} times` });
		else if (index < latest) this.duplicated.push({ id, versionId, where, why: `version ${versionId} emitted after the newer ${list[latest]}` });
		this.latestEmitted.set(id, Math.max(latest, index));
	}

	/** Changes not covered by any emitted item, per visit. */
	lost() {
		const out = [];
		for (const [id, list] of this.versions) {
			const latest = this.latestEmitted.get(id) ?? -1;
			if (latest < list.length - 1) out.push({ id, versions: list.slice(latest + 1), changes: list.length - 1 - latest });
		}
		return out;
	}
}

/**
 * What a search or an export delivered against what the sandbox holds: `expected` is a Map of
 * record key ("Patient/pt-1") to how many times it is there; `delivered` the keys the node output.
 */
export function compareRecords(expected, delivered) {
	const got = new Map();
	for (const key of delivered) got.set(key, (got.get(key) ?? 0) + 1);
	const lost = [];
	const duplicated = [];
	const unexpected = [];
	for (const [key, want] of expected) {
		const have = got.get(key) ?? 0;
		if (have < want) lost.push(key);
		if (have > want) duplicated.push(`${key} x${have}`);
	}
	for (const key of got.keys()) if (!expected.has(key)) unexpected.push(key);
	return { lost, duplicated, unexpected };
}

/** A Map of key -> count from a list of keys. */
export function multiset(keys) {
	const m = new Map();
	for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
	return m;
}
