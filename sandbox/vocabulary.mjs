// What the synthetic data is made of: names, places, practices, payers, reasons, transport needs,
// identifier systems, the fixed visits tests rely on. Used by data.mjs and directory.mjs.

export const FAMILY = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', "O'Brien", 'Patel', 'Kim', 'Chen', 'Okafor', 'Kowalski', 'Schmidt', 'Rossi', 'Murphy', 'Cohen'];
export const GIVEN_F = ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Lisa', 'Nancy', 'Betty', 'Sandra', 'Margaret', 'Ashley', 'Emily', 'Donna', 'Michelle', 'Carol', 'Amanda', 'Maria', 'Sofia', 'Aisha', 'Mei', 'Priya', 'Olivia', 'Emma', 'Ava', 'Chloe'];
export const GIVEN_M = ['James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Paul', 'Andrew', 'Joshua', 'Kevin', 'Brian', 'Carlos', 'Jose', 'Wei', 'Raj', 'Ahmed', 'Liam', 'Noah', 'Ethan'];
export const STREETS = ['Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Washington Blvd', 'Lakeview Rd', 'Park Ave', 'Hillcrest Dr', 'River Rd', 'Pine St', 'Sunset Blvd'];
export const CITIES = [['Boston', 'MA', '02118', '617'], ['Worcester', 'MA', '01608', '508'], ['Providence', 'RI', '02903', '401'], ['Hartford', 'CT', '06103', '860'], ['Albany', 'NY', '12207', '518'], ['Newark', 'NJ', '07102', '973'], ['Philadelphia', 'PA', '19103', '215'], ['Baltimore', 'MD', '21201', '410']];
/**
 * Where a practice's patients live: towns within about 15 miles of its clinics' city (CITIES, same
 * order), so a pick-up is a plausible drive from the clinic.
 */
export const NEARBY = [
	[['Boston', 'MA', '02124', '617'], ['Cambridge', 'MA', '02139', '617'], ['Somerville', 'MA', '02143', '617'], ['Quincy', 'MA', '02169', '617'], ['Brookline', 'MA', '02446', '617'], ['Medford', 'MA', '02155', '781']],
	[['Worcester', 'MA', '01604', '508'], ['Shrewsbury', 'MA', '01545', '508'], ['Auburn', 'MA', '01501', '508'], ['Holden', 'MA', '01520', '508'], ['Millbury', 'MA', '01527', '508'], ['Leicester', 'MA', '01524', '508']],
	[['Providence', 'RI', '02906', '401'], ['Pawtucket', 'RI', '02860', '401'], ['Cranston', 'RI', '02910', '401'], ['East Providence', 'RI', '02914', '401'], ['North Providence', 'RI', '02911', '401'], ['Johnston', 'RI', '02919', '401']],
	[['Hartford', 'CT', '06106', '860'], ['West Hartford', 'CT', '06107', '860'], ['East Hartford', 'CT', '06108', '860'], ['Wethersfield', 'CT', '06109', '860'], ['Newington', 'CT', '06111', '860'], ['Bloomfield', 'CT', '06002', '860']],
	[['Albany', 'NY', '12203', '518'], ['Troy', 'NY', '12180', '518'], ['Schenectady', 'NY', '12305', '518'], ['Colonie', 'NY', '12205', '518'], ['Delmar', 'NY', '12054', '518'], ['Rensselaer', 'NY', '12144', '518']],
	[['Newark', 'NJ', '07104', '973'], ['East Orange', 'NJ', '07017', '973'], ['Irvington', 'NJ', '07111', '973'], ['Bloomfield', 'NJ', '07003', '973'], ['Belleville', 'NJ', '07109', '973'], ['Orange', 'NJ', '07050', '973']],
	[['Philadelphia', 'PA', '19104', '215'], ['Philadelphia', 'PA', '19147', '215'], ['Upper Darby', 'PA', '19082', '610'], ['Cheltenham', 'PA', '19012', '215'], ['Bala Cynwyd', 'PA', '19004', '610'], ['Philadelphia', 'PA', '19130', '215']],
	[['Baltimore', 'MD', '21218', '410'], ['Towson', 'MD', '21204', '410'], ['Catonsville', 'MD', '21228', '410'], ['Dundalk', 'MD', '21222', '410'], ['Pikesville', 'MD', '21208', '410'], ['Baltimore', 'MD', '21224', '410']],
];
export const PRACTICES = ['Riverside Family Medicine', 'Harborview Primary Care', 'Maple Grove Pediatrics', 'Summit Internal Medicine', 'Lakeside Health Associates', 'Cedar Valley Clinic'];
export const PAYERS = [['Blue Harbor Health Plan', 'BHHP'], ['Evergreen Mutual Insurance', 'EVMI'], ['Summit Care Insurance', 'SCIN'], ['Medicare Part B (demo)', 'MCRB']];
export const LOCATIONS = ['Main Street Clinic', 'Westside Office', 'North Campus Suite 200', 'Downtown Urgent Care', 'Lakeside Satellite'];
export const SPECIALTIES = [['207Q00000X', 'Family Medicine'], ['207R00000X', 'Internal Medicine'], ['208000000X', 'Pediatrics'], ['363L00000X', 'Nurse Practitioner']];
export const REASONS = [['38341003', 'Hypertension follow-up'], ['44054006', 'Type 2 diabetes check'], ['185349003', 'Annual wellness visit'], ['279039007', 'Low back pain'], ['182836005', 'Medication review'], ['6142004', 'Flu-like symptoms'], ['35489007', 'Depression follow-up'], ['195967001', 'Asthma check'], ['55822004', 'Hyperlipidemia follow-up'], ['271807003', 'Skin rash']];
export const APPT_TYPES = [['ROUTINE', 'Routine appointment'], ['FOLLOWUP', 'A follow up visit'], ['CHECKUP', 'A routine check-up'], ['WALKIN', 'A previously unscheduled walk-in visit']];
export const VISIT_TYPES = ['Office Visit', 'Follow-up Visit', 'New Patient Visit', 'Annual Physical', 'Sick Visit'];
export const TRANSPORT_NEEDS = [
	'Needs wheelchair transport',
	'Needs medical transport (ambulette)',
	'Needs a ride to the appointment (transport requested)',
	'Stretcher transport (bed-bound)',
	'Ambulance transport, on oxygen',
];
export const TRANSPORT_EXTENSION_URL = 'https://n8n-nodes-eclinicalworks.dev/fhir/StructureDefinition/transport-need';
export const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.564.1';
export const MRN_TYPE = { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }], text: 'MRN' } };
/** Patients pt-6, pt-16, pt-26, ... list a former MRN (`use: old`, period ended) before the current one. */
export const OLD_MRN_EVERY = 10;
export const OLD_MRN_AT = 5;

/**
 * Fixed visits so every dataset has visits today and tomorrow (local), in working hours. With the
 * `rangeEdgeVisits` option (tests) two of them sit on the edges of a day instead: 23:30 today and
 * 00:00 tomorrow, the visits a wrong day boundary gains or loses.
 */
export const FIXED_VISITS = [
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
export const REFERRER_EVERY = 20;
export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const participationType = (code, display) => [{ coding: [{ system: PARTICIPATION_TYPE, code, display }] }];

export const PREFIX = { Patient: 'pt', Encounter: 'en', Appointment: 'ap', Coverage: 'cov', Practitioner: 'pr', Location: 'loc', Organization: 'org', Group: 'grp', Medication: 'med' };
export const MEDICATIONS = [['197361', 'Amlodipine 5 MG Oral Tablet'], ['860975', 'Metformin hydrochloride 500 MG Oral Tablet'], ['314076', 'Lisinopril 10 MG Oral Tablet'], ['617312', 'Atorvastatin 10 MG Oral Tablet'], ['745679', 'Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'], ['312961', 'Simvastatin 20 MG Oral Tablet']];
