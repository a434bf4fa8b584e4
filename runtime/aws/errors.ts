/**
 * Telling a permanent SQS refusal from a transient failure. A message SQS refuses for what it contains (invalid
 * characters, too large, a bad parameter) is refused again on every resend, so the client must be told it is
 * invalid; throttling, 5xx and network errors pass, so the client resends.
 */
const PERMANENT_SQS_ERRORS = new Set([
  "InvalidMessageContents",
  "InvalidParameterValue",
  "InvalidParameterValueException",
  "MessageTooLong",
  "InvalidAttributeName",
  "InvalidAttributeValue",
  "UnsupportedOperation",
]);

/** The reason SQS gave when it refused a message permanently; undefined for failures worth retrying. */
export function permanentSqsRefusal(err: unknown): string | undefined {
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = [e?.name, e?.Code]
    .map((c) => c?.replace(/^AWS\.SimpleQueueService\./, ""))
    .find((c) => c !== undefined && PERMANENT_SQS_ERRORS.has(c));
  if (!code) return undefined;
  // A 5xx under one of these names is the service failing, not the message.
  if ((e.$metadata?.httpStatusCode ?? 400) >= 500) return undefined;
  return `${code}: ${e.message ?? "refused"}`.slice(0, 300);
}
