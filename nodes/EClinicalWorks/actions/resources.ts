import { appointmentResource } from './appointment/Appointment.resource';
import { bulkExportResource } from './bulkExport/BulkExport.resource';
import { fhirResourceResource } from './fhirResource/FhirResource.resource';
import { patientResource } from './patient/Patient.resource';
import { serverResource } from './server/Server.resource';
import type { ResourceModule } from './types';
import { utilityResource } from './utility/Utility.resource';

/**
 * Every resource the node offers, in the order shown in the Resource dropdown.
 * Add a resource by adding its module here; the description and the router read this list.
 */
export const resources: ResourceModule[] = [patientResource, appointmentResource, fhirResourceResource, serverResource, bulkExportResource, utilityResource];
