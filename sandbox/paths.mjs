// The sandbox's URL paths (like eCW's: one auth server, FHIR bases under /fhir/r4/{practiceCode}).
export const TOKEN_PATH = '/oauth/oauth2/token';
export const AUTHORIZE_PATH = '/oauth/oauth2/authorize';
export const JWKS_PATH = '/oauth/oauth2/jwks';
export const FHIR_PREFIX = '/fhir/r4';
