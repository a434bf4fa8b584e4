/** Unit tests of inbound frame parsing: which malformed frames are BAD_FRAME and which are VALIDATION. */
import { parseFrame } from "../../../runtime/gateway/frames";

describe("parseFrame", () => {
  const codeOf = (raw: unknown) => {
    try {
      parseFrame(raw);
      return "ok";
    } catch (err) {
      return (err as { code: string }).code;
    }
  };

  it("separates unknown shapes (BAD_FRAME) from known frames with bad fields (VALIDATION)", () => {
    expect(codeOf([1])).toBe("BAD_FRAME");
    expect(codeOf("send")).toBe("BAD_FRAME");
    expect(codeOf({ type: "explode" })).toBe("BAD_FRAME");
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m 1", body: "x" })).toBe("VALIDATION");
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m1", body: "   " })).toBe(
      "VALIDATION",
    );
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m1", body: "hi" })).toBe("ok");
    expect(codeOf({ type: "read", conversationId: "g:abcdefgh12", seq: 3 })).toBe("ok");
  });
});
