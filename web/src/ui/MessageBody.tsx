import { linkParts } from "../state/links";

/** A message body with its http(s) links clickable; they open in a new tab that cannot reach back to this one. */
export function MessageBody({ body }: { body: string }) {
  return (
    <p className="body" data-testid="message-body" dir="auto">
      {linkParts(body).map((part, i) =>
        part.kind === "link" ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </p>
  );
}
