import { MamoriError } from '@mamori/common';

/** What a promise rejects with. @throws Error when it resolves instead. */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** The MamoriError a promise rejects with. @throws the error when it is another kind. */
export async function mamoriErrorOf(promise: Promise<unknown>): Promise<MamoriError> {
  const err = await errorOf(promise);
  if (err instanceof MamoriError) return err;
  throw err;
}
