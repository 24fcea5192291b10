// The practice's directory records, generated on demand like the rest of the dataset: coverage,
// practitioners, locations, organizations (the practice and its payers), medications and groups.
import { rng, hash32 } from './util.mjs';
import { FAMILY, GIVEN_F, GIVEN_M, STREETS, CITIES, PAYERS, LOCATIONS, SPECIALTIES, MEDICATIONS } from './vocabulary.mjs';

export function coverage(ds, i) {
	const r = rng(ds.seed, 'Coverage', i);
	const payer = r.int(0, PAYERS.length - 1);
	const pid = ds.idFor('Patient', i);
	return {
		resourceType: 'Coverage',
		id: ds.idFor('Coverage', i),
		meta: ds.meta('Coverage', i),
		status: 'active',
		type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: payer === 3 ? 'SUBSIDIZ' : 'HIP', display: payer === 3 ? 'subsidized health program' : 'health insurance plan policy' }] },
		subscriberId: `${PAYERS[payer][1]}${String(hash32(ds.seed, 'sub', i) % 100000000).padStart(8, '0')}`,
		beneficiary: { reference: `Patient/${pid}` },
		relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
		period: { start: `${r.int(2015, 2025)}-01-01` },
		payor: [{ reference: `Organization/org-${payer + 2}`, display: PAYERS[payer][0] }],
		class: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: `PLAN-${r.int(100, 999)}`, name: r.pick(['PPO Gold', 'HMO Standard', 'EPO Silver', 'Medicare Advantage']) }],
	};
}

export function practitioner(ds, i) {
	const r = rng(ds.seed, 'Practitioner', i);
	const gender = r.chance(0.5) ? 'female' : 'male';
	const given = r.pick(gender === 'female' ? GIVEN_F : GIVEN_M);
	const family = r.pick(FAMILY);
	const spec = SPECIALTIES[hash32(ds.seed, 'spec', i) % SPECIALTIES.length];
	const np = spec[0] === '363L00000X';
	return {
		resourceType: 'Practitioner',
		id: ds.idFor('Practitioner', i),
		meta: ds.meta('Practitioner', i),
		identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1000000000 + (hash32(ds.seed, 'npi', i) % 899999999)) }],
		active: true,
		name: [{ use: 'official', family, given: [given], prefix: np ? [] : ['Dr.'], suffix: [np ? 'NP' : 'MD'], text: `${np ? '' : 'Dr. '}${given} ${family}${np ? ', NP' : ', MD'}` }],
		telecom: [{ system: 'phone', value: `617-555-${String(1000 + i).slice(-4)}`, use: 'work' }],
		gender,
		qualification: [{ code: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: spec[0], display: spec[1] }], text: spec[1] } }],
	};
}

export function location(ds, i) {
	const [city, state, zip, area] = CITIES[ds.cityIndex];
	return {
		resourceType: 'Location',
		id: ds.idFor('Location', i),
		meta: ds.meta('Location', i),
		status: 'active',
		name: LOCATIONS[i],
		mode: 'instance',
		type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'OF', display: 'Outpatient facility' }], text: 'Outpatient clinic' }],
		telecom: [{ system: 'phone', value: `${area}-555-01${String(10 + i)}`, use: 'work' }],
		address: { line: [`${100 + i * 25} ${STREETS[i % STREETS.length]}`], city, state, postalCode: zip, country: 'US' },
		managingOrganization: { reference: 'Organization/org-1', display: ds.practiceName },
	};
}

export function organization(ds, i) {
	if (i === 0) {
		const [city, state, zip, area] = CITIES[ds.cityIndex];
		return {
			resourceType: 'Organization',
			id: 'org-1',
			meta: ds.meta('Organization', 0),
			identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(1200000000 + (ds.seed % 1000000)) }],
			active: true,
			type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
			name: ds.practiceName,
			telecom: [{ system: 'phone', value: `${area}-555-0100`, use: 'work' }],
			address: [{ line: ['100 Main St'], city, state, postalCode: zip, country: 'US' }],
		};
	}
	const [name, code] = PAYERS[i - 1];
	return {
		resourceType: 'Organization',
		id: ds.idFor('Organization', i),
		meta: ds.meta('Organization', i),
		identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.564.2', value: code }],
		active: true,
		type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
		name,
	};
}

export function medication(ds, i) {
	const [code, display] = MEDICATIONS[i];
	return {
		resourceType: 'Medication',
		id: ds.idFor('Medication', i),
		meta: ds.meta('Medication', i),
		code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }], text: display },
		status: 'active',
	};
}

export function group(ds, i) {
	const all = i === 0;
	const size = all ? ds.size('Patient') : ds.smallGroupSize;
	const listMembers = size <= 1000;
	return {
		resourceType: 'Group',
		id: ds.idFor('Group', i),
		meta: ds.meta('Group', i),
		identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.564.3', value: all ? 'BULK-ALL' : 'BULK-CM' }],
		active: true,
		type: 'person',
		actual: true,
		name: all ? 'All active patients' : 'Care management cohort',
		quantity: size,
		...(listMembers ? { member: Array.from({ length: size }, (_, k) => ({ entity: { reference: `Patient/${ds.idFor('Patient', k)}` } })) } : {}),
	};
}
