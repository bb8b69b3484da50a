// Original file: mamori/v1/defender.proto

export const AckStatus = {
  ACK_STATUS_UNSPECIFIED: 'ACK_STATUS_UNSPECIFIED',
  /**
   * Every valid event of the batch is durable on the bus; invalid ones are listed in
   * `rejections` and must not be resent.
   */
  ACK_STATUS_ACCEPTED: 'ACK_STATUS_ACCEPTED',
  /**
   * Nothing was accepted and resending the same batch will fail again.
   */
  ACK_STATUS_REJECTED: 'ACK_STATUS_REJECTED',
  /**
   * Nothing was accepted because of a transient problem: resend after retry_after_ms.
   */
  ACK_STATUS_RETRY: 'ACK_STATUS_RETRY',
  /**
   * The batch's sequence was already accepted earlier; nothing was written again.
   */
  ACK_STATUS_DUPLICATE: 'ACK_STATUS_DUPLICATE',
} as const;

export type AckStatus =
  | 'ACK_STATUS_UNSPECIFIED'
  | 0
  /**
   * Every valid event of the batch is durable on the bus; invalid ones are listed in
   * `rejections` and must not be resent.
   */
  | 'ACK_STATUS_ACCEPTED'
  | 1
  /**
   * Nothing was accepted and resending the same batch will fail again.
   */
  | 'ACK_STATUS_REJECTED'
  | 2
  /**
   * Nothing was accepted because of a transient problem: resend after retry_after_ms.
   */
  | 'ACK_STATUS_RETRY'
  | 3
  /**
   * The batch's sequence was already accepted earlier; nothing was written again.
   */
  | 'ACK_STATUS_DUPLICATE'
  | 4

export type AckStatus__Output = typeof AckStatus[keyof typeof AckStatus]
