import { DISPLAY_NAME_MAX, PASSWORD_MAX, signupRequestSchema } from "../../runtime/contracts/api";
import { MAX_BODY_CHARS, USERNAME_MAX, USERNAME_MIN, userIdSchema } from "../../runtime/contracts/ids";
import { checkDraft, COUNTER_FROM, signupProblems } from "../../web/src/state/limits";

describe("checkDraft", () => {
  it("shows no counter well below the limit, a counter near it and a refusal past it", () => {
    expect(checkDraft("hello")).toEqual({});
    expect(checkDraft("x".repeat(COUNTER_FROM))).toEqual({ counter: "3,500 / 4,000" });
    expect(checkDraft("x".repeat(MAX_BODY_CHARS)).refusal).toBeUndefined();
    const past = checkDraft("x".repeat(70_000));
    expect(past.counter).toBe("70,000 / 4,000");
    expect(past.refusal).toMatch(/Too long to send: 70,000 characters, the limit is 4,000/);
  });
});

describe("signupProblems", () => {
  const ok = { username: "alice", displayName: "Alice", password: "correct horse" };

  it("accepts what the server accepts", () => {
    expect(signupProblems(ok, true)).toEqual({});
    expect(signupRequestSchema.safeParse(ok).success).toBe(true);
  });

  it("refuses over-long fields with a message saying the limit and the length", () => {
    const p = signupProblems(
      {
        username: "a".repeat(200),
        displayName: "d".repeat(DISPLAY_NAME_MAX + 1),
        password: "p".repeat(PASSWORD_MAX + 1),
      },
      true,
    );
    expect(p.username).toBe(`Too long: at most ${USERNAME_MAX} characters (this is 200).`);
    expect(p.displayName).toMatch(/at most 64 characters \(this is 65\)/);
    expect(p.password).toMatch(/at most 128 characters \(this is 129\)/);
  });

  it("on login checks only lengths", () => {
    expect(signupProblems({ ...ok, username: "ab", password: "short" }, false)).toEqual({});
    expect(signupProblems({ ...ok, username: "a".repeat(33) }, false).username).toMatch(/at most 32/);
  });

  it("uses the bounds of the server's username pattern", () => {
    expect(userIdSchema.safeParse("a".repeat(USERNAME_MAX)).success).toBe(true);
    expect(userIdSchema.safeParse("a".repeat(USERNAME_MAX + 1)).success).toBe(false);
    expect(userIdSchema.safeParse("a".repeat(USERNAME_MIN)).success).toBe(true);
    expect(userIdSchema.safeParse("a".repeat(USERNAME_MIN - 1)).success).toBe(false);
  });
});
