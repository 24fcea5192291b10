// Deterministic synthetic data. Record i of a type is generated on demand from (seed, practice index,
// type, i); only records created or changed through the admin API are kept, in a small overlay map.
import { rng, hash32, zonedToUtc, addLocalDays, formatZoned, isoDate } from './util.mjs';

const FAMILY = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', "O'Brien", 'Patel', 'Kim', 'Chen', 'Okafor', 'Kowalski', 'Schmidt', 'Rossi', 'Murphy', 'Cohen'];
const GIVEN_F = ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Lisa', 'Nancy', 'Betty', 'Sandra', 'Margaret', 'Ashley', 'Emily', 'Donna', 'Michelle', 'Carol', 'Amanda', 'Maria', 'Sofia', 'Aisha', 'Mei', 'Priya', 'Olivia', 'Emma', 'Ava', 'Chloe'];
const GIVEN_M = ['James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Paul', 'Andrew', 'Joshua', 'Kevin', 'Brian', 'Carlos', 'Jose', 'Wei', 'Raj', 'Ahmed', 'Liam', 'Noah', 'Ethan'];
const STREETS = ['Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Washington Blvd', 'Lakeview Rd', 'Park Ave', 'Hillcrest Dr', 'River Rd', 'Pine St', 'Sunset Blvd'];
const CITIES = [['Boston', 'MA', '02118', '617'], ['Worcester', 'MA', '01608', '508'], ['Providence', 'RI', '02903', '401'], ['Hartford', 'CT', '06103', '860'], ['Albany', 'NY', '12207', '518'], ['Newark', 'NJ', '07102', '973'], ['Philadelphia', 'PA', '19103', '215'], ['Baltimore', 'MD', '21201', '410']];
/**
 * Where a practice's patients live: towns within about 15 miles of its clinics' city (CITIES, same
 * order), so a pick-up is a plausible drive from the clinic.
 */
const NEARBY = [
	[['Boston', 'MA', '02124', '617'], ['Cambridge', 'MA', '02139', '617'], ['Somerville', 'MA', '02143', '617'], ['Quincy', 'MA', '02169', '617'], ['Brookline', 'MA', '02446', '617'], ['Medford', 'MA', '02155', '781']],
	[['Worcester', 'MA', '01604', '508'], ['Shrewsbury', 'MA', '01545', '508'], ['Auburn', 'MA', '01501', '508'], ['Holden', 'MA', '01520', '508'], ['Millbury', 'MA', '01527', '508'], ['Leicester', 'MA', '01524', '508']],
	[['Providence', 'RI', '02906', '401'], ['Pawtucket', 'RI', '02860', '401'], ['Cranston', 'RI', '02910', '401'], ['East Providence', 'RI', '02914', '401'], ['North Providence', 'RI', '02911', '401'], ['Johnston', 'RI', '02919', '401']],
	[['Hartford', 'CT', '06106', '860'], ['West Hartford', 'CT', '06107', '860'], ['East Hartford', 'CT', '06108', '860'], ['Wethersfield', 'CT', '06109', '860'], ['Newington', 'CT', '06111', '860'], ['Bloomfield', 'CT', '06002', '860']],
	[['Albany', 'NY', '12203', '518'], ['Troy', 'NY', '12180', '518'], ['Schenectady', 'NY', '12305', '518'], ['Colonie', 'NY', '12205', '518'], ['Delmar', 'NY', '12054', '518'], ['Rensselaer', 'NY', '12144', '518']],
	[['Newark', 'NJ', '07104', '973'], ['East Orange', 'NJ', '07017', '973'], ['Irvington', 'NJ', '07111', '973'], ['Bloomfield', 'NJ', '07003', '973'], ['Belleville', 'NJ', '07109', '973'], ['Orange', 'NJ', '07050', '973']],
	[['Philadelphia', 'PA', '19104', '215'], ['Philadelphia', 'PA', '19147', '215'], ['Upper Darby', 'PA', '19082', '610'], ['Cheltenham', 'PA', '19012', '215'], ['Bala Cynwyd', 'PA', '19004', '610'], ['Philadelphia', 'PA', '19130', '215']],
	[['Baltimore', 'MD', '21218', '410'], ['Towson', 'MD', '21204', '410'], ['Catonsville', 'MD', '21228', '410'], ['Dundalk', 'MD', '21222', '410'], ['Pikesville', 'MD', '21208', '410'], ['Baltimore', 'MD', '21224', '410']],
];
const PRACTICES = ['Riverside Family Medicine', 'Harborview Primary Care', 'Maple Grove Pediatrics', 'Summit Internal Medicine', 'Lakeside Health Associates', 'Cedar Valley Clinic'];
const PAYERS = [['Blue Harbor Health Plan', 'BHHP'], ['Evergreen Mutual Insurance', 'EVMI'], ['Summit Care Insurance', 'SCIN'], ['Medicare Part B (demo)', 'MCRB']];
const LOCATIONS = ['Main Street Clinic', 'Westside Office', 'North Campus Suite 200', 'Downtown Urgent Care', 'Lakeside Satellite'];
const SPECIALTIES = [['207Q00000X', 'Family Medicine'], ['207R00000X', 'Internal Medicine'], ['208000000X', 'Pediatrics'], ['363L00000X', 'Nurse Practitioner']];
const REASONS = [['38341003', 'Hypertension follow-up'], ['44054006', 'Type 2 diabetes check'], ['185349003', 'Annual wellness visit'], ['279039007', 'Low back pain'], ['182836005', 'Medication review'], ['6142004', 'Flu-like symptoms'], ['35489007', 'Depression follow-up'], ['195967001', 'Asthma check'], ['55822004', 'Hyperlipidemia follow-up'], ['271807003', 'Skin rash']];
const APPT_TYPES = [['ROUTINE', 'Routine appointment'], ['FOLLOWUP', 'A follow up visit'], ['CHECKUP', 'A routine check-up'], ['WALKIN', 'A previously unscheduled walk-in visit']];
const VISIT_TYPES = ['Office Visit', 'Follow-up Visit', 'New Patient Visit', 'Annual Physical', 'Sick Visit'];
export const TRANSPORT_NEEDS = [
	'Needs wheelchair transport',
	'Needs medical transport (ambulette)',
	'Needs a ride to the appointment (transport requested)',
	'Stretcher transport (bed-bound)',
	'Ambulance transport, on oxygen',
];
export const TRANSPORT_EXTENSION_URL = 'https://n8n-nodes-eclinicalworks.dev/fhir/StructureDefinition/transport-need';
export const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.564.1';
const MRN_TYPE = { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }], text: 'MRN' } };
/** Patients pt-6, pt-16, pt-26, ... list a former MRN (`use: old`, period ended) before the current one. */
const OLD_MRN_EVERY = 10;
const OLD_MRN_AT = 5;

/**
 * Fixed visits so every dataset has visits today and tomorrow (local), in working hours. With the
 * `rangeEdgeVisits` option (tests) two of them sit on the edges of a day instead: 23:30 today and
 * 00:00 tomorrow, the visits a wrong day boundary gains or loses.
 */
const FIXED_VISITS = [
	{ day: 0, h: 9, mi: 0, dur: 30, status: 'booked' },
	{ day: 0, h: 11, mi: 30, dur: 20, status: 'booked', transport: 0 },
	{ day: 0, h: 14, mi: 0, dur: 30, status: 'booked', transport: 2 },
	{ day: 0, h: 15, mi: 30, dur: 15, status: 'booked', edge: { h: 23, mi: 30 } },
	{ day: 1, h: 11, mi: 15, dur: 15, status: 'booked', edge: { h: 0, mi: 0 } },
	{ day: 1, h: 8, mi: 30, dur: 30, status: 'booked', transport: 0 },
	{ day: 1, h: 10, mi: 0, dur: 30, status: 'booked', referrer: true, transport: 2 },
	{ day: 1, h: 13, mi: 15, dur: 45, status: 'booked', transport: 1 },
	{ day: 1, h: 16, mi: 45, dur: 30, status: 'cancelled' },
	{ day: -1, h: 15, mi: 0, dur: 30, status: 'fulfilled' },
];

export const VISITS_PER_PATIENT = 2;

/** One visit in 20 (and a fixed one tomorrow) lists its referring practitioner before the one who sees the patient. */
const REFERRER_EVERY = 20;
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const participationType = (code, display) => [{ coding: [{ system: PARTICIPATION_TYPE, code, display }] }];

const PREFIX = { Patient: 'pt', Encounter: 'en', Appointment: 'ap', Coverage: 'cov', Practitioner: 'pr', Location: 'loc', Organization: 'org', Group: 'grp', Medication: 'med' };
const MEDICATIONS = [['197361', 'Amlodipine 5 MG Oral Tablet'], ['860975', 'Metformin hydrochloride 500 MG Oral Tablet'], ['314076', 'Lisinopril 10 MG Oral Tablet'], ['617312', 'Atorvastatin 10 MG Oral Tablet'], ['745679', 'Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'], ['312961', 'Simvastatin 20 MG Oral Tablet']];

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
			case 'Coverage': return this.coverage(i);
			case 'Practitioner': return this.practitioner(i);
			case 'Location': return this.location(i);
			case 'Organization': return this.organization(i);
			case 'Group': return this.group(i);
			case 'Medication': return this.medication(i);
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
		if (!this.prCache[k]) this.prCache[k] = this.practitioner(k).name[0].text;
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

	coverage(i) {
		const r = rng(this.seed, 'Coverage', i);
		const payer = r.int(0, PAYERS.length - 1);
		const pid = this.idFor('Patient', i);
		return {
			resourceType: 'Coverage',
			id: this.idFor('Coverage', i),
			meta: this.meta('Coverage', i),
			status: 'active',
			type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: payer === 3 ? 'SUBSIDIZ' : 'HIP', display: payer === 3 ? 'subsidized health program' : 'health insurance plan policy' }] },
			subscriberId: `${PAYERS[payer][1]}${String(hash32(this.seed, 'sub', i) % 100000000).padStart(8, '0')}`,
			beneficiary: { reference: `Patient/${pid}` },
			relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
			period: { start: `${r.int(2015, 2025)}-01-01` },
			payor: [{ reference: `Organization/org-${payer + 2}`, display: PAYERS[payer][0] }],
			class: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: `PLAN-${r.int(100, 999)}`, name: r.pick(['PPO Gold', 'HMO Standard', 'EPO Silver', 'Medicare Advantage']) }],
		};
	}

	practitioner(i) {
		const r = rng(this.seed, 'Practitioner', i);
		const gender = r.chance(0.5) ? 'female' : 'male';
		const given = r.pick(gender === 'female' ? GIVEN_F : GIVEN_M);
		const family = r.pick(FAMILY);
		const spec = SPECIALTIES[hash32(this.seed, 'spec', i) % SPECIALTIES.length];
		const np = spec[0] === '363L00000X';
		return {
			resourceType: 'Practitioner',
			id: this.idFor('Practitioner', i),
			meta: this.meta('Practitioner', i),
			identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1000000000 + (hash32(this.seed, 'npi', i) % 899999999)) }],
			active: true,
			name: [{ use: 'official', family, given: [given], prefix: np ? [] : ['Dr.'], suffix: [np ? 'NP' : 'MD'], text: `${np ? '' : 'Dr. '}${given} ${family}${np ? ', NP' : ', MD'}` }],
			telecom: [{ system: 'phone', value: `617-555-${String(1000 + i).slice(-4)}`, use: 'work' }],
			gender,
			qualification: [{ code: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: spec[0], display: spec[1] }], text: spec[1] } }],
		};
	}

	location(i) {
		const [city, state, zip, area] = CITIES[this.cityIndex];
		return {
			resourceType: 'Location',
			id: this.idFor('Location', i),
			meta: this.meta('Location', i),
			status: 'active',
			name: LOCATIONS[i],
			mode: 'instance',
			type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'OF', display: 'Outpatient facility' }], text: 'Outpatient clinic' }],
			telecom: [{ system: 'phone', value: `${area}-555-01${String(10 + i)}`, use: 'work' }],
			address: { line: [`${100 + i * 25} ${STREETS[i % STREETS.length]}`], city, state, postalCode: zip, country: 'US' },
			managingOrganization: { reference: 'Organization/org-1', display: this.practiceName },
		};
	}

	organization(i) {
		if (i === 0) {
			const [city, state, zip, area] = CITIES[this.cityIndex];
			return {
				resourceType: 'Organization',
				id: 'org-1',
				meta: this.meta('Organization', 0),
				identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1200000000 + (this.seed % 1000000)) }],
				active: true,
				type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
				name: this.practiceName,
				telecom: [{ system: 'phone', value: `${area}-555-0100`, use: 'work' }],
				address: [{ line: ['100 Main St'], city, state, postalCode: zip, country: 'US' }],
			};
		}
		const [name, code] = PAYERS[i - 1];
		return {
			resourceType: 'Organization',
			id: this.idFor('Organization', i),
			meta: this.meta('Organization', i),
			identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.564.2', value: code }],
			active: true,
			type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
			name,
		};
	}

	medication(i) {
		const [code, display] = MEDICATIONS[i];
		return {
			resourceType: 'Medication',
			id: this.idFor('Medication', i),
			meta: this.meta('Medication', i),
			code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }], text: display },
			status: 'active',
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

	group(i) {
		const all = i === 0;
		const size = all ? this.size('Patient') : this.smallGroupSize;
		const listMembers = size <= 1000;
		return {
			resourceType: 'Group',
			id: this.idFor('Group', i),
			meta: this.meta('Group', i),
			identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.564.3', value: all ? 'BULK-ALL' : 'BULK-CM' }],
			active: true,
			type: 'person',
			actual: true,
			name: all ? 'All active patients' : 'Care management cohort',
			quantity: size,
			...(listMembers ? { member: Array.from({ length: size }, (_, k) => ({ entity: { reference: `Patient/${this.idFor('Patient', k)}` } })) } : {}),
		};
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
