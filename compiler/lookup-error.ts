// A name the user asked for (a model, a train block) that the checked program does not have. The
// front end throws it; the CLI reports it like any user error (cli/common.ts), so the compiler
// needs nothing from the CLI.
export class LookupError extends Error {}
