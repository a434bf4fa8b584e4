import { useState } from "react";

type Permission = NotificationPermission | "unsupported";

const current = (): Permission => (typeof Notification === "undefined" ? "unsupported" : Notification.permission);

/** Asks for desktop notifications only when the user presses it — never on load; gone once they have answered. */
export function NotificationsButton() {
  const [permission, setPermission] = useState<Permission>(current);
  if (permission !== "default") return null;
  return (
    <button
      type="button"
      onClick={() => {
        void Notification.requestPermission().then(setPermission, () => setPermission(current()));
      }}
    >
      Enable notifications
    </button>
  );
}
