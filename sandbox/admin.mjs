// Admin API: create, change and cancel records so the trigger and incremental exports see real changes
// (in-process as `sb.admin`; over HTTP under /admin only with `admin: true` / `--admin`).
import crypto from 'node:crypto';
import { TRANSPORT_EXTENSION_URL } from './vocabulary.mjs';
import { FhirError, formatZoned, readBody, sendJson } from './util.mjs';

export class Admin {
	/** @param {any} sb the Sandbox */
	constructor(sb) {
		this.sb = sb;
	}

	ds(code) {
		const d = this.sb.practices.get(code);
		if (!d) throw new FhirError(404, 'not-found', `Unknown practice ${code}`);
		return d;
	}

	/** A change's meta: the next version (a counter, or a UUID with the uuidVersionIds quirk) and lastUpdated. */
	stamp(r, explicit, prevVersion) {
		const versionId = this.sb.contract.quirks?.uuidVersionIds ? crypto.randomUUID() : String((Number(prevVersion) || 0) + 1);
		r.meta = { ...(r.meta ?? {}), versionId, lastUpdated: toIso(explicit ?? this.sb.clock()) };
		return r;
	}

	api() {
		const self = this;
		const ref = (type, v) => (v === undefined || v === null ? undefined : String(v).includes('/') ? String(v) : `${type}/${v}`);
		const when = (v) => (v === undefined ? undefined : typeof v === 'string' ? v : formatZoned(v instanceof Date ? v.getTime() : Number(v), this.sb.o.timeZone));
		const explicitLu = (o, opts) => opts?.lastUpdated ?? o?.lastUpdated ?? o?.meta?.lastUpdated;
		const strip = (o) => {
			const { lastUpdated, meta, id, resourceType, ...rest } = o ?? {};
			return rest;
		};
		const update = (code, type, id, changes, opts) => {
			const ds = this.ds(code);
			const cur = ds.get(type, id);
			if (!cur) throw new FhirError(404, 'not-found', `Resource ${type}/${id} is not known`);
			const r = { ...structuredClone(cur), ...strip(changes) };
			this.stamp(r, explicitLu(changes, opts), cur.meta?.versionId);
			ds.put(type, r);
			return r;
		};
		const encounterFor = (ds, apptId) => {
			const linked = ds.apptToEnc?.get(apptId);
			if (linked) return linked;
			const i = ds.indexOf('Appointment', apptId);
			return i >= 0 && i < ds.counts.Appointment ? ds.idFor('Encounter', i) : null;
		};
		const encStatus = { fulfilled: 'finished', noshow: 'cancelled', cancelled: 'cancelled', booked: 'planned', pending: 'planned', proposed: 'planned', arrived: 'arrived', 'checked-in': 'arrived', 'entered-in-error': 'entered-in-error', waitlist: 'planned' };
		const api = {
			/** Get a resource as the server holds it (with admin changes). */
			get: (code, type, id) => this.ds(code).get(type, id),
			createPatient: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Patient');
				const r = { resourceType: 'Patient', id, active: true, name: [{ use: 'official', family: 'Doe', given: ['Jane'], text: 'Jane Doe' }], gender: 'female', birthDate: '1980-01-01', ...strip(partial) };
				if (!r.identifier) r.identifier = [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'MRN' }, system: 'urn:oid:2.16.840.1.113883.3.564.1', value: `9${String(ds.size('Patient')).padStart(6, '0')}` }];
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Patient', r);
				return r;
			},
			updatePatient: (code, id, changes, opts) => update(code, 'Patient', id, changes, opts),
			createEncounter: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Encounter');
				const start = when(partial.start) ?? formatZoned(this.sb.clock(), this.sb.o.timeZone);
				const end = when(partial.end) ?? formatZoned(Date.parse(start) + 30 * 60000, this.sb.o.timeZone);
				const r = {
					resourceType: 'Encounter',
					id,
					...(partial.transport ? { extension: [{ url: TRANSPORT_EXTENSION_URL, valueString: partial.transport }] } : {}),
					status: partial.status ?? 'planned',
					class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
					type: [{ text: partial.visitType ?? 'Office Visit' }],
					subject: { reference: ref('Patient', partial.patient ?? ds.idFor('Patient', 0)) },
					participant: [{ individual: { reference: ref('Practitioner', partial.practitioner ?? 'pr-1') } }],
					period: { start, end },
					reasonCode: [{ text: partial.reason ?? 'Office visit' }, ...(partial.transport ? [{ text: partial.transport }] : [])],
					location: [{ location: { reference: ref('Location', partial.location ?? 'loc-1') } }],
					serviceProvider: { reference: 'Organization/org-1' },
					...strip(Object.fromEntries(Object.entries(partial).filter(([k]) => !['patient', 'practitioner', 'location', 'start', 'end', 'reason', 'transport', 'visitType'].includes(k)))),
				};
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Encounter', r);
				return r;
			},
			updateEncounter: (code, id, changes, opts) => update(code, 'Encounter', id, changes, opts),
			createAppointment: (code, partial = {}, opts) => {
				const ds = this.ds(code);
				const id = ds.newId('Appointment');
				const start = when(partial.start) ?? formatZoned(this.sb.clock() + 86400_000, this.sb.o.timeZone);
				const end = when(partial.end) ?? formatZoned(Date.parse(start) + 30 * 60000, this.sb.o.timeZone);
				const patient = ref('Patient', partial.patient ?? ds.idFor('Patient', 0));
				const practitioner = ref('Practitioner', partial.practitioner ?? 'pr-1');
				const location = ref('Location', partial.location ?? 'loc-1');
				const status = partial.status ?? 'booked';
				const transport = partial.transport ?? partial.comment;
				const r = {
					resourceType: 'Appointment',
					id,
					status,
					appointmentType: { text: partial.appointmentType ?? 'Routine appointment' },
					reasonCode: [{ text: partial.reason ?? 'Office visit' }],
					start,
					end,
					...(transport ? { comment: transport } : {}),
					participant: [patient, practitioner, location].map((reference) => ({ actor: { reference }, required: 'required', status: 'accepted' })),
					...strip(Object.fromEntries(Object.entries(partial).filter(([k]) => !['patient', 'practitioner', 'location', 'start', 'end', 'reason', 'transport', 'appointmentType'].includes(k)))),
				};
				this.stamp(r, explicitLu(partial, opts), 0);
				ds.put('Appointment', r);
				const enc = api.createEncounter(code, { patient, practitioner, location, start, end, status: encStatus[status] ?? 'planned', reason: partial.reason, transport: partial.transport ?? partial.comment, ...(this.sb.o.profile === 'smart' ? { appointment: [{ reference: `Appointment/${id}` }] } : {}) }, opts);
				if (!ds.apptToEnc) ds.apptToEnc = new Map();
				ds.apptToEnc.set(id, enc.id);
				return r;
			},
			updateAppointment: (code, id, changes = {}, opts) => {
				const ds = this.ds(code);
				if (String(id).startsWith('en-')) return update(code, 'Encounter', id, changes, opts);
				const changed = { ...changes };
				for (const k of ['start', 'end']) if (changed[k] !== undefined) changed[k] = when(changed[k]);
				const r = update(code, 'Appointment', id, changed, opts);
				const encId = encounterFor(ds, id);
				if (encId && (changed.start || changed.end || changed.status)) {
					const enc = ds.get('Encounter', encId);
					const encChanges = {};
					if (changed.start || changed.end) encChanges.period = { start: r.start, end: r.end };
					if (changed.status) encChanges.status = encStatus[changed.status] ?? enc.status;
					update(code, 'Encounter', encId, { ...encChanges, lastUpdated: explicitLu(changes, opts) });
				}
				return r;
			},
			cancelAppointment: (code, id, opts) => {
				const ds = this.ds(code);
				if (String(id).startsWith('en-')) return update(code, 'Encounter', id, { status: 'cancelled' }, opts);
				const r = update(code, 'Appointment', id, { status: 'cancelled', cancelationReason: { text: 'Cancelled by the practice' } }, opts);
				const encId = encounterFor(ds, id);
				if (encId) update(code, 'Encounter', encId, { status: 'cancelled' }, opts);
				return r;
			},
			/** Delete a record created through this API (generated records cannot be): reads then answer 404, searches skip it. */
			deleteRecord: (code, type, id) => {
				const ds = this.ds(code);
				if (!ds.get(type, id)) throw new FhirError(404, 'not-found', `Resource ${type}/${id} is not known`);
				if (ds.indexOf(type, id) < (ds.counts[type] ?? 0)) throw new FhirError(400, 'invalid', `Only records created through the admin API can be deleted (${type}/${id} is generated)`);
				ds.overlay.get(type)?.delete(id);
				return { deleted: `${type}/${id}` };
			},
			/** Encounter id linked to an appointment (eCW profile serves the visit as an Encounter). */
			encounterForAppointment: (code, id) => encounterFor(this.ds(code), id),
			setClockOffset: (ms) => {
				this.sb.clockOffset = Number(ms) || 0;
			},
			getClockOffset: () => this.sb.clockOffset,
			revokeTokens: () => this.sb.auth.revokeAll(),
			inject: (f) => this.sb.inject(f),
			clearFaults: () => {
				this.sb.faults.clear();
			},
			get stats() {
				return self.sb.stats;
			},
		};
		return api;
	}

	async handle({ req, res, path }) {
		const segs = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
		const body = ['POST', 'PUT', 'PATCH'].includes(req.method ?? '') ? await readBody(req) : '';
		let json = {};
		if (body) {
			try {
				json = JSON.parse(body);
			} catch {
				throw new FhirError(400, 'invalid', 'Body must be JSON');
			}
		}
		const a = this.sb.api.admin;
		const ok = (r, status = 200) => sendJson(res, status, r, {}, 'application/json');
		const [p0, p1, p2, p3] = segs;
		const m = req.method;
		if (segs.length === 0) return ok({ endpoints: ['GET/POST/DELETE /admin/faults', 'GET /admin/stats', 'POST /admin/stats/reset', 'POST /admin/clock {offsetMs}', 'POST /admin/revoke-tokens', 'POST /admin/{practice}/{Patient|Encounter|Appointment}', 'PATCH /admin/{practice}/{type}/{id}', 'POST /admin/{practice}/Appointment/{id}/$cancel', 'GET /admin/{practice}/{type}/{id}', 'DELETE /admin/{practice}/{type}/{id}'] });
		if (p0 === 'faults' && segs.length === 1) {
			if (m === 'GET') return ok(this.sb.faults.list.map((f) => ({ ...f, path: f.path?.source })));
			if (m === 'DELETE') {
				this.sb.faults.clear();
				return ok({ cleared: true });
			}
			if (m === 'POST') {
				try {
					return ok({ id: this.sb.inject(json) }, 201);
				} catch (e) {
					throw new FhirError(400, 'invalid', e.message);
				}
			}
		}
		if (p0 === 'stats' && segs.length === 1 && m === 'GET') return ok(this.sb.stats);
		if (p0 === 'stats' && p1 === 'reset' && m === 'POST') {
			this.sb.stats.reset();
			return ok({ reset: true });
		}
		if (p0 === 'clock' && m === 'POST') {
			a.setClockOffset(json.offsetMs);
			return ok({ offsetMs: this.sb.clockOffset });
		}
		if (p0 === 'revoke-tokens' && m === 'POST') {
			a.revokeTokens();
			return ok({ revoked: true });
		}
		if (this.sb.practices.has(p0)) {
			const type = p1;
			if (segs.length === 2 && m === 'POST') {
				const fn = { Patient: a.createPatient, Encounter: a.createEncounter, Appointment: a.createAppointment }[type];
				if (fn) return ok(fn(p0, json), 201);
			}
			if (segs.length === 3 && (m === 'PATCH' || m === 'PUT')) {
				const fn = { Patient: a.updatePatient, Encounter: a.updateEncounter, Appointment: a.updateAppointment }[type];
				if (fn) return ok(fn(p0, p2, json));
			}
			if (segs.length === 3 && m === 'GET') {
				const r = a.get(p0, type, p2);
				if (!r) throw new FhirError(404, 'not-found', 'Unknown resource');
				return ok(r);
			}
			if (segs.length === 3 && m === 'DELETE') return ok(a.deleteRecord(p0, type, p2));
			if (segs.length === 4 && p3 === '$cancel' && m === 'POST' && type === 'Appointment') return ok(a.cancelAppointment(p0, p2, json));
		}
		throw new FhirError(404, 'not-found', `No admin route ${m} ${path}`);
	}
}

function toIso(v) {
	if (typeof v === 'number') return new Date(v).toISOString();
	if (v instanceof Date) return v.toISOString();
	const t = Date.parse(v);
	if (Number.isNaN(t)) throw new FhirError(400, 'invalid', `Invalid lastUpdated ${v}`);
	return new Date(t).toISOString();
}
