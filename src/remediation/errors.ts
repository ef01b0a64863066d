/**
 * Errors of the remediation module that the API turns into answers: a refused field (400 naming it)
 * and a name already taken (409).
 */

/** A field of a runbook, an action or a run's input that is not acceptable. */
export class RemediationInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** An action name another action already has. */
export class ActionNameTakenError extends Error {
  constructor(readonly actionName: string) {
    super(`an action named "${actionName}" already exists`);
  }
}
