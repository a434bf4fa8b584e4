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
      className="icon-button"
      aria-label="Enable notifications"
      onClick={() => {
        void Notification.requestPermission().then(setPermission, () => setPermission(current()));
      }}
    >
      <svg aria-hidden="true" width="14" height="14" viewBox="0 0 16 16" fill="currentColor">
        <path d="M8 1.5a4.5 4.5 0 0 0-4.5 4.5v3L2 11.5h12L12.5 9V6A4.5 4.5 0 0 0 8 1.5ZM6.3 13a1.8 1.8 0 0 0 3.4 0Z" />
      </svg>
      <span className="label">Enable notifications</span>
    </button>
  );
}
