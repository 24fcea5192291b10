import type { ResourceModule } from './types';

/**
 * Every resource the node offers, in the order shown in the Resource dropdown.
 * Add a resource by adding its module here; the description and the router read this list.
 */
export const resources: ResourceModule[] = [];
