export * from './errors/tern-error.ts';
