import { useState, type FormEvent } from "react";
import { ApiError, HttpApi, type Api, type Session } from "../state/api";

interface Props {
  onAuthenticated: (session: Session) => void;
  notice?: string;
  api?: Pick<Api, "login" | "signup">;
}

const defaultApi = new HttpApi(() => undefined);

export function AuthScreen({ onAuthenticated, notice, api = defaultApi }: Props) {
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const name = username.trim().toLowerCase();
      const session = signup
        ? await api.signup({ username: name, password, displayName: displayName.trim() || undefined })
        : await api.login({ username: name, password });
      onAuthenticated(session);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : "Something went wrong");
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <h1 className="brand">Parley</h1>
      <form className="card" aria-labelledby="auth-title" onSubmit={submit}>
        <h2 id="auth-title">{signup ? "Create an account" : "Log in"}</h2>
        {notice && !error && <p className="notice">{notice}</p>}
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9_]{3,32}"
            title="3–32 letters, digits or _"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
          />
        </label>
        {signup && (
          <label>
            Display name <span className="hint">(optional)</span>
            <input
              name="displayName"
              autoComplete="name"
              maxLength={64}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          </label>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={signup ? "new-password" : "current-password"}
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {signup ? "Sign up" : "Log in"}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(signup ? "login" : "signup");
            setError(undefined);
          }}
        >
          {signup ? "Already have an account? Log in" : "New here? Create an account"}
        </button>
      </form>
    </main>
  );
}
