// The trigger lane: episodes of polls through n8n-core's real poll machinery (runPoll: static data
// carried from poll to poll, restarts from what n8n had saved), with visits created, changed,
// rescheduled and cancelled between polls and, now and then, in the middle of a poll. Each episode
// ends with fault-free polls until nothing more comes out, then the ledger says what was lost.
import { searchAll } from '../../test/sandbox/helpers.mjs';
import { guarded, laneSandbox, truthToken } from './common.mjs';
import { classifyFailure } from './failures.mjs';
import { pickFaults } from './plan.mjs';
import { VersionLedger } from './truth.mjs';

const DAY = 86_400_000;

/** profile 'smart': the _lastUpdated strategy; 'ecw': the date-window snapshot strategy. */
export async function triggerLane(ctx, profile, lane) {
	const work = profile === 'smart' ? 'trigger:lastUpdated' : 'trigger:window';
	for (let episode = ctx.firstEpisode; ctx.moreEpisodes(episode); episode++) {
		// each episode its own PRNG stream: `--episode N` replays one alone
		const r = ctx.rng(lane, episode);
		await guarded(ctx, `${lane} episode ${episode}`, () => episodeOf(ctx, r, { profile, work, lane, episode }));
	}
}

async function episodeOf(ctx, r, { profile, work, lane, episode }) {
	let midPoll = null;
	const quirks = profile === 'smart' ? ['uuidVersionIds', 'unsortedDefault'].filter(() => r.chance(0.3)) : undefined;
	const { sb, armer, credentials } = await laneSandbox(ctx, lane, episode, { profile, quirks, patients: r.int(8, 16) }, (request) => midPoll?.(request));
	try {
		const ledger = new VersionLedger();
		const visits = new Visits(sb, profile, r, ledger, (text) => ctx.trace(lane, `episode ${episode} ${text}`));
		await visits.loadWindow();
		const parameters = { event: 'appointmentChanged', output: 'raw', options: { pageSize: r.int(2, 5) } };
		const where = (poll) => `${lane} episode ${episode} poll ${poll} (seed ${ctx.seed}, quirks ${quirks?.join('+') || 'none'})`;
		let staticData = {};
		let saved;
		let polls = 0;

		const poll = async ({ faults, restart = false }) => {
			polls += 1;
			if (faults) armer.arm(pickFaults(r, ctx.plan, 'poll', profile), r);
			const result = await ctx.harness.runPoll({ parameters, credentials, staticData: restart ? saved : staticData, throwOnError: false });
			const landed = armer.armed.map((a) => a.name);
			const served = armer.served();
			midPoll = null;
			staticData = result.staticData;
			if (saved === undefined || result.staticDataSaved) saved = structuredClone(staticData);
			for (const item of result.json) {
				if (item.resource) ledger.emit(item.resource.id, item.resource.meta?.versionId, where(polls));
				else ctx.tally.check(work, { checked: 0, unexpected: [`${item.event} ${item.id ?? '(no id)'}`], where: where(polls) });
			}
			const failure = result.error ? classifyFailure(result.error, ctx.classes) : null;
			ctx.tally.run(work, { failure, faults: served, where: where(polls) });
			ctx.trace(lane, `episode ${episode} poll ${polls}${restart ? ' (restart from saved)' : ''}${landed.length ? ` faults [${landed.join(', ')}]` : ''}: ${result.error ? `failed: ${result.error.message}` : `emitted [${result.json.map((j) => `${j.resource?.id ?? j.id} v${j.resource?.meta?.versionId} ${j.event}`).join(', ')}]`}${result.staticDataSaved ? ', saved' : ''}`);
			return result;
		};

		// activation: the first poll notes where the server is and emits nothing
		for (let tries = 0; tries < 3 && saved === undefined; tries++) {
			const first = await poll({ faults: false });
			if (first.error) saved = undefined;
		}
		if (saved === undefined) {
			ctx.tally.note(`${where(polls)}: the trigger did not activate in 3 fault-free polls; episode skipped`);
			return;
		}

		const length = r.int(20, 45);
		for (let i = 0; i < length && !ctx.stopped(); i++) {
			visits.sincePoll.clear();
			// now and then a burst: more changes than a page holds, so polls read several pages
			for (let k = r.chance(0.2) ? r.int(4, 9) : r.int(0, 3); k > 0; k--) visits.mutate();
			if (r.chance(0.15)) {
				const nth = r.int(2, 4);
				let seen = 0;
				midPoll = (request) => {
					if (request.path.startsWith('/fhir/') && ++seen === nth) {
						midPoll = null;
						ctx.trace(lane, `episode ${episode} during poll ${polls + 1}, at request ${nth} (${request.path}${request.query}):`);
						// mostly a visit the poll is reading (changed since the last poll): it moves within the result
						visits.mutate({ reading: r.chance(0.7) });
						ctx.tally.count(work, 'changes made in the middle of a poll');
					}
				};
			}
			const restart = r.chance(0.08);
			if (restart) ctx.tally.count(work, 'restarts from the static data n8n saved');
			await poll({ faults: true, restart });
		}

		// drain: fault-free polls until two in a row emit nothing
		let quiet = 0;
		for (let i = 0; i < 8 && quiet < 2; i++) {
			const result = await poll({ faults: false });
			quiet = !result.error && result.json.length === 0 ? quiet + 1 : 0;
		}
		ctx.tally.count(work, 'episodes checked');
		const lost = ledger.lost().map((l) => `${l.id} versions ${l.versions.join(',')}`);
		ctx.tally.check(work, {
			checked: ledger.changes,
			lost,
			duplicated: ledger.duplicated.map((d) => `${d.id}: ${d.why} (${d.where})`),
			unexpected: ledger.spurious.map((s) => `${s.id} version ${s.versionId} (${s.where})`),
			where: where(polls),
		});
	} finally {
		await sb.stop();
	}
}

/** The visits the soak changes: those it created, and those of the window the server already had. */
class Visits {
	constructor(sb, profile, r, ledger, trace) {
		this.sb = sb;
		this.practice = sb.practices[0];
		this.trace = trace;
		this.profile = profile;
		this.r = r;
		this.ledger = ledger;
		this.live = [];
		this.notes = 0;
		this.history = new Map();
		/** Visits changed since the last poll began. */
		this.sincePoll = new Set();
	}

	get type() {
		return this.profile === 'smart' ? 'Appointment' : 'Encounter';
	}

	/** Visits 1 to 10 days ahead that the server already holds (changing one is its first sighting). */
	async loadWindow() {
		const day = (ms) => new Date(ms).toISOString().slice(0, 10);
		const now = Date.now();
		const { matches } = await searchAll(`${this.sb.baseUrl}/${this.type}?date=ge${day(now + DAY)}&date=le${day(now + 10 * DAY)}&_count=100`, await truthToken(this.sb));
		this.live = matches.filter((v) => v.status !== 'cancelled').map((v) => v.id);
	}

	/** The statuses and starts a visit has had (from its state when the soak first changes it). */
	had(id, current) {
		let h = this.history.get(id);
		if (!h) {
			h = { statuses: new Set([current.status]), starts: new Set([Date.parse(current.start ?? current.period?.start)]) };
			this.history.set(id, h);
		}
		return h;
	}

	/** A start 1 to 10 days ahead, on the quarter hour. */
	start() {
		const ms = Date.now() + this.r.int(1, 9) * DAY + this.r.int(0, 95) * 15 * 60_000;
		return new Date(Math.floor(ms / 900_000) * 900_000);
	}

	record(resource, what) {
		this.ledger.change(resource.id, resource.meta.versionId);
		this.sincePoll.add(resource.id);
		this.trace(`${what} ${resource.id} v${resource.meta.versionId} (${resource.status}, ${resource.start ?? resource.period?.start}, lastUpdated ${resource.meta.lastUpdated})`);
	}

	/** `reading`: change a visit changed since the last poll (one the poll is reading), when there is one. */
	mutate({ reading = false } = {}) {
		const { r, sb } = this;
		const a = sb.admin;
		const inRead = [...this.sincePoll].filter((id) => this.live.includes(id));
		const roll = reading && inRead.length ? 0.35 + r.next() * 0.65 : r.next();
		if (roll < 0.35 || this.live.length === 0) {
			const start = this.start();
			const visit = this.profile === 'smart' ? a.createAppointment(this.practice, { start, comment: r.chance(0.3) ? 'Needs wheelchair transport' : undefined }) : a.createEncounter(this.practice, { start, transport: r.chance(0.3) ? 'Needs wheelchair transport' : undefined });
			this.record(visit, 'created');
			this.live.push(visit.id);
			return;
		}
		const id = reading && inRead.length ? r.pick(inRead) : r.pick(this.live);
		if (roll < 0.8) {
			// Every change touches what a dispatcher sees, and no visit ever goes back to a status or a
			// start it had: the date window reports how a visit differs from what it saw last, so a
			// change undone before the next poll is rightly never reported.
			const current = a.get(this.practice, this.type, id);
			const had = this.had(id, current);
			const statuses = (this.profile === 'smart' ? ['booked', 'pending', 'arrived', 'checked-in'] : ['planned', 'arrived', 'in-progress']).filter((x) => !had.statuses.has(x));
			let what = r.int(0, 2);
			if (what === 1 && statuses.length === 0) what = 2;
			let changes;
			if (what === 0) {
				let start = this.start();
				while (had.starts.has(start.getTime())) start = new Date(start.getTime() + 15 * 60_000);
				had.starts.add(start.getTime());
				const end = new Date(start.getTime() + 30 * 60_000);
				changes = this.profile === 'smart' ? { start, end } : { period: { start: start.toISOString(), end: end.toISOString() } };
			} else if (what === 1) {
				changes = { status: r.pick(statuses) };
				had.statuses.add(changes.status);
			} else {
				changes = this.profile === 'smart' ? { comment: `Note ${++this.notes}` } : { reasonCode: [{ text: `Reason ${++this.notes}` }] };
			}
			this.record(this.profile === 'smart' ? a.updateAppointment(this.practice, id, changes) : a.updateEncounter(this.practice, id, changes), `changed ${Object.keys(changes).join('+')}`);
			return;
		}
		this.record(this.profile === 'smart' ? a.cancelAppointment(this.practice, id) : a.updateEncounter(this.practice, id, { status: 'cancelled' }), 'cancelled');
		this.live = this.live.filter((x) => x !== id);
	}
}
