/**
 * What the sending numbers' reputation stores (server/delivery/number-health.ts).
 * The numbers are the clinic's own, not PHI; nothing here names a patient.
 */

/** One sending number's standing, shared by every hub node: flagged numbers get no new patients until an admin restores them. */
export interface SmsNumberDoc {
  /** The number, E.164. */
  _id: string;
  /** When it crossed a threshold, and which (null or missing: in the pool). */
  flaggedAt?: Date | null;
  flagReason?: string | null;
  /** The last restore by an admin: judging starts afresh after it (the window before it made the flag). */
  restoredAt?: Date | null;
  restoredBy?: string | null;
  updatedAt: Date;
}

/** The counters of one number over one UTC hour, each moved by `$inc` as its event happens. */
export interface SmsNumberStatsDoc {
  /** `<number>|<hour ISO>` */
  _id: string;
  number: string;
  hour: Date;
  /** Handed to Twilio from this number. */
  sent?: number;
  delivered?: number;
  undelivered?: number;
  failed?: number;
  /** Undelivered or failed with Twilio's 30007 (carrier filtering: the number looks like spam). */
  e30007?: number;
  /** 30003 unreachable handset, 30005 unknown number, 30006 landline: the recipients', not the number's. */
  e30003?: number;
  e30005?: number;
  e30006?: number;
  /** STOP keywords texted to this number. */
  optOuts?: number;
}
