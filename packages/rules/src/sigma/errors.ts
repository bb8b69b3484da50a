import { ErrorCode, MamoriError } from '@mamori/common';

/**
 * Why a rule did not compile: `invalid` is a mistake in the rule (reported as a problem of its
 * file), `unsupported` a rule that is well formed but asks for what Mamori's events or this
 * engine cannot give (reported as a skipped rule).
 */
export type SigmaFault = 'invalid' | 'unsupported';

/** A rule the compiler refuses, with the field or construct at fault. */
export function sigmaError(
  fault: SigmaFault,
  message: string,
  context: { field?: string; line?: number } = {},
): MamoriError {
  return new MamoriError(ErrorCode.RuleSyntax, message, { context: { fault, ...context } });
}

export function unsupported(message: string, field?: string): MamoriError {
  return sigmaError('unsupported', message, field === undefined ? {} : { field });
}

export function invalid(message: string, field?: string): MamoriError {
  return sigmaError('invalid', message, field === undefined ? {} : { field });
}
