/** A record that can never succeed (bad body, unknown conversation, non-member): it must reach the DLQ. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoisonMessageError";
  }
}

/** Another writer kept taking the next seq slot; the record is retried later. */
export class SeqContentionError extends Error {
  constructor(conversationId: string, attempts: number) {
    super(`could not claim the next seq of ${conversationId} after ${attempts} attempts`);
    this.name = "SeqContentionError";
  }
}
