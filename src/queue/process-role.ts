/** Which process this is: the HTTP API, a worker, or a one-shot CLI command. */
export type ProcessRole = 'api' | 'worker' | 'cli';
export const PROCESS_ROLE = Symbol('PROCESS_ROLE');
