/**
 * Input limits the client checks before sending, so nothing is cut silently: the numbers are the server's
 * (runtime/contracts), and past one the user is told why the input is refused rather than having it truncated.
 */
import { DISPLAY_NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from "../../../runtime/contracts/api";
import { MAX_BODY_CHARS, USERNAME_MAX, USERNAME_MIN } from "../../../runtime/contracts/ids";

/** The counter appears this close to the limit. */
export const COUNTER_FROM = MAX_BODY_CHARS - 500;

const count = (n: number) => n.toLocaleString("en");

export interface DraftCheck {
  /** "3,600 / 4,000" near the limit, undefined well below it. */
  counter?: string;
  /** Why the draft cannot be sent, or undefined if it can. */
  refusal?: string;
}

/** Lengths are UTF-16 units, as the server's schema counts them. */
export function checkDraft(draft: string, max = MAX_BODY_CHARS): DraftCheck {
  const n = draft.length;
  if (n < max - 500) return {};
  const counter = `${count(n)} / ${count(max)}`;
  if (n <= max) return { counter };
  return {
    counter,
    refusal: `Too long to send: ${count(n)} characters, the limit is ${count(max)}. Shorten it or split it into several messages.`,
  };
}

export interface SignupFields {
  username: string;
  displayName: string;
  password: string;
}

/** Problems to show under each field as the user types; an empty object means the form may be sent. */
export function signupProblems(f: SignupFields, signup: boolean): Partial<Record<keyof SignupFields, string>> {
  const problems: Partial<Record<keyof SignupFields, string>> = {};
  const username = f.username.trim();
  if (username.length > USERNAME_MAX) {
    problems.username = `Too long: at most ${USERNAME_MAX} characters (this is ${count(username.length)}).`;
  } else if (signup && username.length > 0 && !/^[A-Za-z0-9_]*$/.test(username)) {
    problems.username = "Only letters, digits and _.";
  } else if (signup && username.length > 0 && username.length < USERNAME_MIN) {
    problems.username = `At least ${USERNAME_MIN} characters.`;
  }
  if (signup && f.displayName.trim().length > DISPLAY_NAME_MAX) {
    problems.displayName = `Too long: at most ${DISPLAY_NAME_MAX} characters (this is ${count(f.displayName.trim().length)}).`;
  }
  if (f.password.length > PASSWORD_MAX) {
    problems.password = `Too long: at most ${PASSWORD_MAX} characters (this is ${count(f.password.length)}).`;
  } else if (signup && f.password.length > 0 && f.password.length < PASSWORD_MIN) {
    problems.password = `At least ${PASSWORD_MIN} characters.`;
  }
  return problems;
}
