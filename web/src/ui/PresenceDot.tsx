/** Presence by shape as well as colour: a filled dot online, a hollow ring offline, and the word for screen readers. */
export function PresenceDot({ online }: { online: boolean }) {
  return (
    <span
      className={`dot${online ? " online" : ""}`}
      data-testid="presence-dot"
      data-online={online}
      title={online ? "online" : "offline"}
    >
      <span className="visually-hidden">{online ? "online" : "offline"}</span>
    </span>
  );
}
