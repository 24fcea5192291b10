/**
 * What is known about eClinicalWorks, and how sure: published facts drive behaviour; what public
 * sources disagree on is worded as such wherever a user reads it.
 */

/** Public sources name eCW's admin menu for FHIR apps differently; neither is confirmed by eCW. */
export const ECW_ADMIN_MENU =
	'the practice\'s eCW admin settings for FHIR apps (public sources call the menu "Admin > Product Activation > FHIR APIs > Bulk/Backend Apps" or "Admin > Production Activation > Settings > Provider/Backend Apps")';

export const ECW_ENABLE_APP_HINT = `the app is enabled for this practice in ${ECW_ADMIN_MENU}`;

/** Whether a CapabilityStatement is eCW's own (its FHIR facade publishes itself by name). */
export function isEcwStatement(statement: { software?: { name?: unknown }; publisher?: unknown } | undefined): boolean {
	const software = typeof statement?.software?.name === 'string' ? statement.software.name : '';
	const publisher = typeof statement?.publisher === 'string' ? statement.publisher : '';
	return /^eCW FHIR/i.test(software) || /^eClinicalWorks$/i.test(publisher);
}
