// Deterministic synthetic data. Record i of a type is generated on demand from (seed, practice index,
// type, i); only records created or changed through the admin API are kept, in a small overlay map.
import * as directory from './directory.mjs';
import { rng, hash32, zonedToUtc, addLocalDays, formatZoned, isoDate } from './util.mjs';
import { FAMILY, GIVEN_F, GIVEN_M, STREETS, CITIES, NEARBY, PRACTICES, PAYERS, LOCATIONS, REASONS, APPT_TYPES, VISIT_TYPES, TRANSPORT_NEEDS, TRANSPORT_EXTENSION_URL, MRN_SYSTEM, MRN_TYPE, OLD_MRN_EVERY, OLD_MRN_AT, FIXED_VISITS, VISITS_PER_PATIENT, REFERRER_EVERY, participationType, PREFIX, MEDICATIONS } from './vocabulary.mjs';

/** A practice's dataset: counts, on-demand generation and the overlay of admin changes. */
export class Dataset {
	/**
	 * @param {{ code: string, index: number, seed: number, patients: number, timeZone: string, startMs: number, profile: string, uuidVersionIds?: boolean, rangeEdgeVisits?: boolean }} o
	 */
	constructor({ code, index, seed, patients, timeZone, startMs, profile, uuidVersionIds = false, rangeEdgeVisits = false }) {
		this.uuidVersionIds = uuidVersionIds;
		this.rangeEdgeVisits = rangeEdgeVisits;
		this.code = code;
		this.index = index;
		this.seed = seed + index;
		this.tz = timeZone;
		this.profile = profile;
		this.startMs = Math.floor(startMs / 1000) * 1000;
		this.n = Math.max(1, patients | 0);
		this.counts = {
			Patient: this.n,
			Encounter: this.n * VISITS_PER_PATIENT,
			Appointment: this.n * VISITS_PER_PATIENT,
			Coverage: this.n,
			Practitioner: Math.min(500, Math.max(4, Math.ceil(this.n / 100))),
			Location: Math.min(LOCATIONS.length, Math.max(3, Math.ceil(this.n / 2000))),
			Organization: 1 + PAYERS.length,
			Group: 2,
			// served only where the smart profile's moreTypes quirk declares it (eCW's declared Medication stays empty)
			Medication: profile === 'smart' ? MEDICATIONS.length : 0,
		};
		/** @type {Map<string, Map<string, any>>} type -> id -> resource (changed or created) */
		this.overlay = new Map();
		/** @type {Map<string, string[]>} type -> created ids in order */
		this.created = new Map();
		this.smallGroupSize = Math.min(10, this.n);
		this.practiceName = PRACTICES[hash32(this.seed, 'practice') % PRACTICES.length];
		/** The city of the practice's clinics (CITIES); its patients live nearby (NEARBY). */
		this.cityIndex = hash32(this.seed, 'loccity') % CITIES.length;
	}

	idFor(type, i) {
		return `${PREFIX[type]}-${i + 1}`;
	}

	/** Raw index of an id (base or created), or -1. */
	indexOf(type, id) {
		const m = /^([a-z]+)-(\d+)$/.exec(String(id));
		if (!m || m[1] !== PREFIX[type]) return -1;
		const i = Number(m[2]) - 1;
		return i >= 0 && i < this.size(type) ? i : -1;
	}

	size(type) {
		return (this.counts[type] ?? 0) + (this.created.get(type)?.length ?? 0);
	}

	/** Resource at raw position i (0 <= i < size). */
	at(type, i) {
		const id = this.idFor(type, i);
		const o = this.overlay.get(type)?.get(id);
		if (o) return o;
		if (i >= (this.counts[type] ?? 0)) return undefined;
		return this.generate(type, i);
	}

	get(type, id) {
		const i = this.indexOf(type, id);
		return i < 0 ? undefined : this.at(type, i);
	}

	/** Cheap lastUpdated (ms) of a record without generating it (base records only). */
	lastUpdatedMs(type, i) {
		const id = this.idFor(type, i);
		const o = this.overlay.get(type)?.get(id);
		if (o) return Date.parse(o.meta.lastUpdated);
		// between 1 hour and 180 days before the server started, with millisecond precision
		return this.startMs - 3600_000 - (hash32(this.seed, type, i, 'lu') % (179 * 86400_000));
	}

	/** Patient raw index of a compartment record (cheap, base records only), else -1. */
	patientIndexOf(type, i) {
		if (type === 'Patient') return i;
		if (i < (this.counts[type] ?? 0) && !this.overlay.get(type)?.has(this.idFor(type, i))) {
			if (type === 'Encounter' || type === 'Appointment') return i % this.n;
			if (type === 'Coverage') return i;
		}
		const r = this.at(type, i);
		const ref = r?.subject?.reference ?? r?.beneficiary?.reference ?? r?.participant?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
		return ref ? this.indexOf('Patient', ref.slice(8)) : -1;
	}

	/** Raw positions of a patient's records in a compartment type (base + created). */
	*positionsForPatient(type, pIdx) {
		if (type === 'Patient') {
			yield pIdx;
			return;
		}
		const base = this.counts[type] ?? 0;
		if (pIdx < this.n) {
			if (type === 'Encounter' || type === 'Appointment') for (let k = 0; k < VISITS_PER_PATIENT; k++) yield pIdx + k * this.n;
			else if (type === 'Coverage') yield pIdx;
		}
		for (let i = base; i < this.size(type); i++) yield i;
	}

	meta(type, i) {
		return { versionId: this.uuidVersionIds ? uuidOf(this.seed, type, i) : '1', lastUpdated: new Date(this.lastUpdatedMs(type, i)).toISOString() };
	}

	generate(type, i) {
		switch (type) {
			case 'Patient': return this.patient(i);
			case 'Encounter': return this.encounter(i);
			case 'Appointment': return this.appointment(i);
			case 'Coverage': return directory.coverage(this, i);
			case 'Practitioner': return directory.practitioner(this, i);
			case 'Location': return directory.location(this, i);
			case 'Organization': return directory.organization(this, i);
			case 'Group': return directory.group(this, i);
			case 'Medication': return directory.medication(this, i);
			default: return undefined;
		}
	}

	patient(i) {
		const r = rng(this.seed, 'Patient', i);
		const { gender, given, family, givens } = this.patientName(r);
		const [city, state, zip, area] = r.pick(NEARBY[this.cityIndex]);
		const by = r.int(1932, 2022);
		const birthDate = `${by}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`;
		const mrn = String(((i * 7919 + this.seed * 104729) % 9000000) + 1000000);
		const phone = `${area}-555-${String(r.int(0, 9999)).padStart(4, '0')}`;
		return {
			resourceType: 'Patient',
			id: this.idFor('Patient', i),
			meta: this.meta('Patient', i),
			identifier: [
				...(i % OLD_MRN_EVERY === OLD_MRN_AT ? [{ ...MRN_TYPE, use: 'old', system: MRN_SYSTEM, value: this.oldMrn(i), period: { end: '2019-06-30' } }] : []),
				{ ...MRN_TYPE, use: 'usual', system: MRN_SYSTEM, value: mrn },
			],
			active: true,
			name: [{ use: 'official', family, given: givens, text: `${givens.join(' ')} ${family}` }],
			telecom: [
				{ system: 'phone', value: phone, use: r.chance(0.6) ? 'mobile' : 'home' },
				...(r.chance(0.5) ? [{ system: 'email', value: `${given}.${family}${i + 1}@example.com`.toLowerCase().replace(/'/g, '') }] : []),
			],
			gender,
			birthDate,
			address: [{ use: 'home', line: [`${r.int(1, 9999)} ${r.pick(STREETS)}`], city, state, postalCode: zip, country: 'US' }],
			communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: r.chance(0.85) ? 'en' : 'es' }] }, preferred: true }],
			generalPractitioner: [{ reference: `Practitioner/${this.idFor('Practitioner', hash32(this.seed, 'gp', i) % this.counts.Practitioner)}` }],
			managingOrganization: { reference: 'Organization/org-1', display: this.practiceName },
		};
	}

	/** A former MRN (6 digits, so never another patient's current 7-digit one). */
	oldMrn(i) {
		return String(100000 + (hash32(this.seed, 'oldmrn', i) % 900000));
	}

	/** Timing, status and participants shared by Appointment i and Encounter i. */
	visit(i) {
		const r = rng(this.seed, 'Visit', i);
		let day, h, mi, dur, status, transport;
		let referred = hash32(this.seed, 'ref', i) % REFERRER_EVERY === 0;
		if (i < FIXED_VISITS.length && i < this.counts.Encounter) {
			({ day, h, mi, dur, status } = FIXED_VISITS[i]);
			if (this.rangeEdgeVisits && FIXED_VISITS[i].edge) ({ h, mi } = FIXED_VISITS[i].edge);
			transport = FIXED_VISITS[i].transport;
			referred = !!FIXED_VISITS[i].referrer;
		} else {
			day = r.int(-30, 30);
			const slot = r.int(0, 38); // 08:00 .. 17:30 in 15 min steps
			h = 8 + Math.floor(slot / 4);
			mi = (slot % 4) * 15;
			dur = r.pick([15, 20, 30, 30, 45, 60]);
			const x = r.next();
			if (day < 0) status = x < 0.8 ? 'fulfilled' : x < 0.9 ? 'noshow' : 'cancelled';
			else status = x < 0.85 ? 'booked' : x < 0.95 ? 'cancelled' : 'pending';
			transport = r.chance(0.08) ? r.int(0, TRANSPORT_NEEDS.length - 1) : undefined;
		}
		if (!this.dayCache) this.dayCache = new Map();
		let date = this.dayCache.get(day);
		if (!date) this.dayCache.set(day, (date = addLocalDays(this.startMs, day, this.tz)));
		const start = zonedToUtc(date.y, date.m, date.d, h, mi, 0, this.tz);
		const end = start + dur * 60000;
		const practitioner = hash32(this.seed, 'vp', i) % this.counts.Practitioner;
		return {
			start,
			end,
			status,
			transport: transport === undefined ? undefined : TRANSPORT_NEEDS[transport],
			patient: i % this.n,
			practitioner,
			/** The referring practitioner, listed first (as some EHRs do), or undefined. */
			referrer: referred ? (practitioner + 1) % this.counts.Practitioner : undefined,
			location: hash32(this.seed, 'vl', i) % this.counts.Location,
			reason: REASONS[hash32(this.seed, 'vr', i) % REASONS.length],
			apptType: APPT_TYPES[hash32(this.seed, 'vt', i) % APPT_TYPES.length],
			visitType: VISIT_TYPES[hash32(this.seed, 'vv', i) % VISIT_TYPES.length],
		};
	}

	patientDisplay(pIdx) {
		const o = this.overlay.get('Patient')?.get(this.idFor('Patient', pIdx));
		if (o || pIdx >= this.counts.Patient) return o?.name?.[0]?.text;
		const { givens, family } = this.patientName(rng(this.seed, 'Patient', pIdx));
		return `${givens.join(' ')} ${family}`;
	}

	practitionerRef(k) {
		return { reference: `Practitioner/${this.idFor('Practitioner', k)}`, display: this.practitionerDisplay(k) };
	}

	practitionerDisplay(k) {
		if (!this.prCache) this.prCache = [];
		if (!this.prCache[k]) this.prCache[k] = directory.practitioner(this, k).name[0].text;
		return this.prCache[k];
	}

	/** First draws of a patient's rng: gender and name (shared by patient() and patientDisplay()). */
	patientName(r) {
		const gender = r.chance(0.5) ? 'female' : 'male';
		const given = r.pick(gender === 'female' ? GIVEN_F : GIVEN_M);
		const middle = r.chance(0.4) ? r.pick(gender === 'female' ? GIVEN_F : GIVEN_M) : undefined;
		const family = r.pick(FAMILY);
		return { gender, given, family, givens: middle ? [given, middle] : [given] };
	}

	appointment(i) {
		const v = this.visit(i);
		const pid = this.idFor('Patient', v.patient);
		return {
			resourceType: 'Appointment',
			id: this.idFor('Appointment', i),
			meta: this.meta('Appointment', i),
			status: v.status,
			...(v.status === 'cancelled' ? { cancelationReason: { text: 'Patient request' } } : {}),
			serviceType: [{ text: v.visitType }],
			appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: v.apptType[0], display: v.apptType[1] }], text: v.apptType[1] },
			reasonCode: [{ coding: [{ system: 'http://snomed.info/sct', code: v.reason[0], display: v.reason[1] }], text: v.reason[1] }],
			description: `${v.visitType}: ${v.reason[1]}`,
			start: formatZoned(v.start, this.tz),
			end: formatZoned(v.end, this.tz),
			minutesDuration: Math.round((v.end - v.start) / 60000),
			...(v.transport ? { comment: v.transport, patientInstruction: v.transport } : {}),
			participant: [
				{ actor: { reference: `Patient/${pid}`, display: this.patientDisplay(v.patient) }, required: 'required', status: 'accepted' },
				...(v.referrer === undefined ? [] : [{ type: participationType('REF', 'referrer'), actor: this.practitionerRef(v.referrer), required: 'information-only', status: 'accepted' }]),
				{ ...(v.referrer === undefined ? {} : { type: participationType('PPRF', 'primary performer') }), actor: this.practitionerRef(v.practitioner), required: 'required', status: 'accepted' },
				{ actor: { reference: `Location/${this.idFor('Location', v.location)}`, display: LOCATIONS[v.location] }, required: 'required', status: 'accepted' },
			],
		};
	}

	encounter(i) {
		const v = this.visit(i);
		const status = { fulfilled: 'finished', noshow: 'cancelled', cancelled: 'cancelled', booked: 'planned', pending: 'planned', arrived: 'arrived' }[v.status] ?? 'planned';
		const pid = this.idFor('Patient', v.patient);
		return {
			resourceType: 'Encounter',
			id: this.idFor('Encounter', i),
			meta: this.meta('Encounter', i),
			...(v.transport ? { extension: [{ url: TRANSPORT_EXTENSION_URL, valueString: v.transport }] } : {}),
			status,
			class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
			type: [{ text: v.visitType }],
			serviceType: { text: v.visitType },
			subject: { reference: `Patient/${pid}`, display: this.patientDisplay(v.patient) },
			participant: [
				...(v.referrer === undefined ? [] : [{ type: participationType('REF', 'referrer'), individual: this.practitionerRef(v.referrer) }]),
				{ type: participationType('PPRF', 'primary performer'), individual: this.practitionerRef(v.practitioner) },
			],
			...(this.profile === 'smart' ? { appointment: [{ reference: `Appointment/${this.idFor('Appointment', i)}` }] } : {}),
			period: { start: formatZoned(v.start, this.tz), end: formatZoned(v.end, this.tz) },
			reasonCode: [
				{ coding: [{ system: 'http://snomed.info/sct', code: v.reason[0], display: v.reason[1] }], text: v.reason[1] },
				...(v.transport ? [{ text: v.transport }] : []),
			],
			location: [{ location: { reference: `Location/${this.idFor('Location', v.location)}`, display: LOCATIONS[v.location] } }],
			serviceProvider: { reference: 'Organization/org-1', display: this.practiceName },
		};
	}

	/** Is patient at raw index p a member of group g (raw index)? */
	inGroup(g, p) {
		if (g === 0) return true;
		if (g === 1) return p < this.smallGroupSize;
		const grp = this.at('Group', g);
		const id = this.idFor('Patient', p);
		return !!grp?.member?.some((m) => m.entity?.reference === `Patient/${id}`);
	}

	// ---------- overlay (admin changes) ----------
	put(type, resource) {
		if (!this.overlay.has(type)) this.overlay.set(type, new Map());
		this.overlay.get(type).set(resource.id, resource);
	}

	newId(type) {
		if (!this.created.has(type)) this.created.set(type, []);
		const list = this.created.get(type);
		const id = this.idFor(type, (this.counts[type] ?? 0) + list.length);
		list.push(id);
		return id;
	}
}

/** A deterministic UUID-shaped version id (servers whose versionId is not a counter). */
function uuidOf(...parts) {
	const hex = [0, 1, 2, 3].map((k) => hash32(...parts, 'v', k).toString(16).padStart(8, '0')).join('');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const localDay = (ms, tz, days = 0) => isoDate(addLocalDays(ms, days, tz));
