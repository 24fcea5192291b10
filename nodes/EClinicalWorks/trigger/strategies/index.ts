import { pollLastUpdated } from './lastUpdated';
import { pollWindow } from './window';
import type { PracticePoll, PracticePollResult } from './strategy';

export type { PracticePoll, PracticePollResult } from './strategy';

/**
 * One poll of one practice, by the strategy chosen at activation (strategy.ts): `lastUpdated`
 * (lastUpdated.ts) or `window` (window.ts). In manual mode ("Fetch test event") it returns
 * the most recent matching record and no state.
 */
export async function pollPractice(poll: PracticePoll): Promise<PracticePollResult> {
	return poll.source.strategy === 'window' ? await pollWindow(poll) : await pollLastUpdated(poll);
}
