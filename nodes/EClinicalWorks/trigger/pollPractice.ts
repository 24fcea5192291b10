import { pollLastUpdated } from './pollLastUpdated';
import { pollWindow } from './pollWindow';
import type { PracticePoll, PracticePollResult } from './practicePoll';

export type { PracticePoll, PracticePollResult } from './practicePoll';

/**
 * One poll of one practice, by the strategy chosen at activation (strategy.ts): `lastUpdated`
 * (pollLastUpdated.ts) or `window` (pollWindow.ts). In manual mode ("Fetch test event") it returns
 * the most recent matching record and no state.
 */
export async function pollPractice(poll: PracticePoll): Promise<PracticePollResult> {
	return poll.source.strategy === 'window' ? await pollWindow(poll) : await pollLastUpdated(poll);
}
