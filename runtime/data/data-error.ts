// Training data that cannot be used as given (missing, empty, too short for one sequence): the
// user's to fix, so the command says what and where without a stack trace.

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}
